"""The covenant lifecycle: amend, waive for a period, end; four-eyes (the proposer never
decides, and is told so in a sentence); 403 before 409; a change takes effect on its start
day, inclusive (at approval, or through the daily sweep); waived and ended checks are no
longer owed; a lapsed waiver resumes testing after the waived period."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import can_proceed

from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.monitoring import covenant_change_services as changes
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import Covenant, CovenantChange, CovenantCheck
from apps.monitoring.covenant_states import CovenantChangeState, CovenantState

TODAY = timezone.localdate


def _propose(covenant, officer, **kwargs):
    base = {"kind": "waive", "effective_from": TODAY(), "reason": "Seasonal dip agreed"}
    return changes.covenant_change_propose(covenant_id=covenant.pk, actor=officer,
                                           **{**base, **kwargs})


CHANGE_ALLOWED = {"approve": {"proposed"}, "reject": {"proposed"}, "withdraw": {"proposed"},
                  "take_effect": {"approved"}}
COVENANT_ALLOWED = {"waive": {"active"}, "reinstate": {"waived"}, "end": {"active", "waived"}}


@pytest.mark.parametrize("model, states, allowed", [
    (CovenantChange, CovenantChangeState, CHANGE_ALLOWED),
    (Covenant, CovenantState, COVENANT_ALLOWED)])
def test_transition_tables(model, states, allowed):
    for state in states.values:
        item = model()
        item.__dict__["state"] = state
        for name, sources in allowed.items():
            assert can_proceed(getattr(item, name), check_conditions=False) == (
                state in sources), (model.__name__, state, name)
    with pytest.raises(AttributeError):
        model().state = "ended"


def test_four_eyes_same_person_refused_with_a_sentence(world, scheduled):
    loan, check, _review = scheduled
    officer = world.user("postloan.north")
    change = _propose(check.covenant, officer, waived_until=TODAY() + dt.timedelta(days=200))
    with pytest.raises(PermissionDenied) as refused:
        changes.covenant_change_approve(change_id=change.pk, actor=officer)
    assert "different person" in str(refused.value)
    # A lead of the branch who proposed it is refused in the same words (four-eyes for all).
    lead = world.user("lead.north")
    other = _propose(Covenant.objects.filter(loan=loan).exclude(pk=check.covenant_id).get(),
                     world.user("postloan.north"), kind="end")
    with pytest.raises(PermissionDenied):  # another branch's lead: not theirs
        changes.covenant_change_approve(change_id=other.pk, actor=world.user("lead.south"))
    with pytest.raises(PermissionDenied):  # the officer who may propose may not decide
        changes.covenant_change_reject(change_id=other.pk, actor=officer, note="no")
    changes.covenant_change_approve(change_id=change.pk, actor=lead, note="Agreed")
    # 403 before 409: the proposer on a decided change still hears "not you".
    with pytest.raises(PermissionDenied):
        changes.covenant_change_approve(change_id=change.pk, actor=officer)
    with pytest.raises(TransitionConflict):
        changes.covenant_change_approve(change_id=change.pk, actor=lead)
    assert AuditEvent.objects.filter(action="covenant_change.approved",
                                     subject_id=str(change.pk)).count() == 1


def test_proposal_validation_and_permission(world, scheduled):
    _loan, check, _review = scheduled
    officer = world.user("postloan.north")
    with pytest.raises(PermissionDenied):
        _propose(check.covenant, world.user("am.north"), waived_until=TODAY())
    with pytest.raises(ValidationError) as bad:
        _propose(check.covenant, officer, effective_from=TODAY() - dt.timedelta(days=1),
                 reason=" ")
    assert set(bad.value.message_dict) == {"effective_from", "waived_until", "reason"}
    with pytest.raises(ValidationError) as nothing:
        _propose(check.covenant, officer, kind="amend", new_text=check.covenant.text)
    assert "new_text" in nothing.value.message_dict
    _propose(check.covenant, officer, kind="end")
    with pytest.raises(TransitionConflict):  # one open change per covenant
        _propose(check.covenant, officer, kind="end")


def test_waiver_from_today_cancels_the_open_check_and_resumes_after(world, scheduled):
    loan, check, _review = scheduled
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    until = check.due_date + dt.timedelta(days=10)
    change = _propose(check.covenant, officer, effective_from=TODAY(), waived_until=until)
    changes.covenant_change_approve(change_id=change.pk, actor=lead)
    change.refresh_from_db()
    check.refresh_from_db()
    covenant = Covenant.objects.get(pk=check.covenant_id)
    assert change.state == "in_effect" and change.previous["state"] == "active"
    assert covenant.state == "waived" and covenant.waived_until == until
    assert check.state == "cancelled"
    # The sweep on the waiver's last day keeps it waived; the day after, testing resumes
    # with a check after the waived period (nothing owed for it).
    services.covenant_sweep_chunk(loan_ids=[loan.pk], today=until)
    covenant.refresh_from_db()
    assert covenant.state == "waived"
    services.covenant_sweep_chunk(loan_ids=[loan.pk], today=until + dt.timedelta(days=1))
    covenant.refresh_from_db()
    assert covenant.state == "active" and covenant.active
    nxt = CovenantCheck.objects.get(covenant=covenant, state__in=("scheduled", "due"))
    assert nxt.due_date > until
    assert AuditEvent.objects.filter(action="covenant.reinstated").count() == 1


def test_change_takes_effect_on_its_start_day_inclusive(world, scheduled):
    loan, check, _review = scheduled
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    start = check.due_date  # the check is due on the start day itself: it is waived
    change = _propose(check.covenant, officer, effective_from=start,
                      waived_until=start + dt.timedelta(days=5))
    changes.covenant_change_approve(change_id=change.pk, actor=lead)
    change.refresh_from_db()
    assert change.state == "approved"  # approved before its start day: waiting
    services.covenant_sweep_chunk(loan_ids=[loan.pk], today=start - dt.timedelta(days=1))
    change.refresh_from_db()
    check.refresh_from_db()
    assert change.state == "approved" and check.state != "cancelled"
    services.covenant_sweep_chunk(loan_ids=[loan.pk], today=start)
    change.refresh_from_db()
    check.refresh_from_db()
    assert change.state == "in_effect" and check.state == "cancelled"
    # A rerun of the sweep the same day changes nothing.
    before = AuditEvent.objects.count()
    services.covenant_sweep_chunk(loan_ids=[loan.pk], today=start)
    assert AuditEvent.objects.count() == before


def test_a_check_due_the_day_before_an_end_is_still_owed(world, scheduled):
    loan, check, _review = scheduled
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    change = _propose(check.covenant, officer, kind="end",
                      effective_from=check.due_date + dt.timedelta(days=1))
    changes.covenant_change_approve(change_id=change.pk, actor=lead)
    services.covenant_sweep_chunk(loan_ids=[loan.pk], today=check.due_date + dt.timedelta(days=1))
    check.refresh_from_db()
    covenant = Covenant.objects.get(pk=check.covenant_id)
    assert covenant.state == "ended" and covenant.ended_on == check.due_date + dt.timedelta(
        days=1)
    assert check.state == "overdue"  # due the day before the end: still owed, and late
    with pytest.raises(TransitionConflict):
        _propose(covenant, officer, kind="amend", new_text="Anything")


def test_amendment_and_rejection(world, scheduled):
    _loan, check, _review = scheduled
    officer, reviewer = world.user("postloan.north"), world.user("reviewer.north")
    covenant = check.covenant
    rejected = _propose(covenant, officer, kind="amend", new_text="At least 50% of receipts")
    with pytest.raises(ValidationError):
        changes.covenant_change_reject(change_id=rejected.pk, actor=reviewer, note=" ")
    changes.covenant_change_reject(change_id=rejected.pk, actor=reviewer, note="Keep 60%")
    covenant.refresh_from_db()
    assert covenant.text.startswith("Keep at least 60%")
    amend = _propose(covenant, officer, kind="amend", new_text="At least 50% of receipts",
                     new_kind="financial_ratio")
    changes.covenant_change_approve(change_id=amend.pk, actor=reviewer)
    covenant.refresh_from_db()
    amend.refresh_from_db()
    assert (covenant.text, covenant.kind) == ("At least 50% of receipts", "financial_ratio")
    assert amend.previous["text"].startswith("Keep at least 60%")
    check.refresh_from_db()
    assert check.state in ("scheduled", "due")  # the open check tests the amended terms
    withdrawn = _propose(covenant, officer, kind="end")
    with pytest.raises(PermissionDenied):
        changes.covenant_change_withdraw(change_id=withdrawn.pk, actor=reviewer)
    changes.covenant_change_withdraw(change_id=withdrawn.pk, actor=officer)
    withdrawn.refresh_from_db()
    assert withdrawn.state == "withdrawn"
    assert AuditEvent.objects.filter(action="covenant.amended").count() == 1
