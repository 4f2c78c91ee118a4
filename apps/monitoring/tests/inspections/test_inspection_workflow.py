"""The inspection state machine: transition table, four-eyes review, conclusion, overdue and
escalation once (domain reference §4.1, §4.2, §4.5)."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import can_proceed

from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.monitoring import inspection_hooks
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_selectors import inspections_overdue
from apps.monitoring.inspection_services import (
    InspectionIncomplete,
    inspection_answer_save,
    inspection_mark_overdue,
    inspection_return,
    inspection_review,
    inspection_schedule_generate,
    inspection_start,
    inspection_submit,
    inspections_overdue_mark,
)
from apps.monitoring.inspection_states import InspectionState as S
from apps.monitoring.tests.inspections.inspection_factories import answer_all_m1, make_loan

pytestmark = pytest.mark.django_db

ALLOWED = {
    (S.SCHEDULED, "start"), (S.OVERDUE, "start"),
    (S.SCHEDULED, "mark_overdue"), (S.IN_PROGRESS, "mark_overdue"),
    (S.IN_PROGRESS, "submit"), (S.OVERDUE, "submit"),
    (S.SUBMITTED, "review"), (S.SUBMITTED, "return_for_correction"),
}
TRANSITIONS = ["start", "mark_overdue", "submit", "review", "return_for_correction"]


def test_transition_table():
    for state in S:
        for name in TRANSITIONS:
            inspection = Inspection()
            inspection._meta.get_field("state").protected = False
            inspection.state = state
            inspection._meta.get_field("state").protected = True
            allowed = can_proceed(getattr(inspection, name), check_conditions=False)
            assert allowed == ((state, name) in ALLOWED), (state, name)


def _first(world, **kwargs):
    loan = make_loan(world, **kwargs)
    inspection_schedule_generate(loan_id=loan.pk)
    return loan, Inspection.objects.get(loan=loan, kind="m1")


CONCLUSION = {"proposed_class": "normal", "class_reason": "Funds used as agreed; sales steady.",
              "actions": ["contact"]}


def test_officer_fills_submits_and_a_second_person_reviews(world):
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    loan, m1 = _first(world)
    with pytest.raises(PermissionDenied):
        inspection_start(inspection_id=m1.pk, actor=world.user("am.north"))
    inspection_start(inspection_id=m1.pk, actor=officer)
    with pytest.raises(InspectionIncomplete) as missing:
        inspection_submit(inspection_id=m1.pk, actor=officer, **CONCLUSION)
    assert len(missing.value.fields["missing"]) >= 8
    answer_all_m1(m1, officer, COOPERATION="uncooperative", FUNDS_AS_AGREED=False)
    with pytest.raises(ValidationError) as bad:
        inspection_submit(inspection_id=m1.pk, actor=officer, proposed_class="fine",
                          class_reason="", actions=["dance"])
    assert set(bad.value.message_dict) == {"proposed_class", "class_reason", "actions"}
    next_date = timezone.localdate() + dt.timedelta(days=20)
    submitted = inspection_submit(inspection_id=m1.pk, actor=officer,
                                  next_inspection_date=next_date, **CONCLUSION)
    assert submitted.state == S.SUBMITTED and submitted.done_on_time is True
    # W17 and W18 come from the answers, for the signals side to read.
    assert submitted.funds_used_as_agreed is False and submitted.cooperation == "uncooperative"
    assert {"W17_PURPOSE_DIVERTED", "W18_UNCOOPERATIVE"} <= {f["code"]
                                                             for f in submitted.red_flags}
    # Four-eyes: not the officer, not someone without the role.
    with pytest.raises(PermissionDenied):
        inspection_review(inspection_id=m1.pk, actor=officer)
    with pytest.raises(PermissionDenied):
        inspection_review(inspection_id=m1.pk, actor=world.user("am.north"))
    with pytest.raises(PermissionDenied):  # another branch's lead cannot see it
        inspection_review(inspection_id=m1.pk, actor=world.user("lead.south"))
    reviewed = inspection_review(inspection_id=m1.pk, actor=lead, note="Agreed.",
                                 proposed_class="special_mention",
                                 class_reason="Uncooperative borrower; watch.",
                                 actions=["contact", "special_check", "contact"])
    assert reviewed.state == S.REVIEWED and reviewed.reviewed_by == lead
    assert reviewed.actions == ["contact", "special_check"]
    # The reviewed conclusion reaches the risk engine (apps.monitoring.wiring): W17 (funds
    # diverted, L3) and W18 (uncooperative, L2) open from the answers; the L3 signal's
    # "special check" action schedules a special inspection; the officer's proposed category
    # waits for a reviewer's confirmation, raised to the floor the open L3 signal sets.
    from apps.monitoring.models import Classification, Signal

    assert set(Signal.objects.filter(loan=loan).values_list("rule__code", flat=True)) >= {
        "W17", "W18"}
    special = Inspection.objects.get(loan=loan, kind="special")
    assert special.due_date <= next_date
    proposal = Classification.objects.get(loan=loan)
    assert proposal.proposed_by == officer and proposal.category == "substandard"
    assert "Uncooperative borrower; watch." in proposal.reason
    # The special check comes before the conclusion's date, so no extra routine check then.
    routine = Inspection.objects.filter(loan=loan, kind="m2", state=S.SCHEDULED)
    assert next_date not in {r.due_date for r in routine}
    actions = list(AuditEvent.objects.filter(subject_type="monitoring.inspection",
                                             subject_id=str(m1.pk))
                   .values_list("action", flat=True))
    assert {"inspection.scheduled", "inspection.started", "inspection.answer_saved",
            "inspection.submitted", "inspection.reviewed"} <= set(actions)
    event = AuditEvent.objects.filter(action="inspection.submitted").last()
    assert event.application_id == loan.application_id and event.branch_id == loan.branch_id
    with pytest.raises(TransitionConflict):
        inspection_review(inspection_id=m1.pk, actor=lead)


def test_return_for_correction_needs_a_note_and_reopens(world):
    officer, reviewer = world.user("postloan.north"), world.user("reviewer.north")
    _loan, m1 = _first(world)
    inspection_start(inspection_id=m1.pk, actor=officer)
    answer_all_m1(m1, officer)
    inspection_submit(inspection_id=m1.pk, actor=officer, **CONCLUSION)
    with pytest.raises(ValidationError):
        inspection_return(inspection_id=m1.pk, actor=reviewer, note=" ")
    returned = inspection_return(inspection_id=m1.pk, actor=reviewer,
                                 note="Say who received you.")
    assert returned.state == S.IN_PROGRESS and returned.submitted_at is None
    inspection_answer_save(inspection_id=m1.pk, item_code="RECEIVED_BY", value="Ms Li, CFO",
                           expected_version=1, actor=officer)


def test_overdue_is_marked_and_escalated_once(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    raised = []

    def raiser(**kwargs):
        raised.append(kwargs)
    inspection_hooks.register_signal_raiser(raiser)
    try:
        value_date = timezone.localdate() - dt.timedelta(days=40)
        loan, m1 = _first(world, value_date=value_date)
        assert m1 in inspections_overdue(timezone.localdate())
        with pytest.raises(Exception):  # noqa: B017 - the row is not marked by a plain save
            m1.state = S.OVERDUE
        with django_capture_on_commit() as callbacks:
            assert inspections_overdue_mark() >= 1
        assert inspection_mark_overdue(inspection_id=m1.pk) is False  # once
        assert inspections_overdue_mark() == 0
    finally:
        inspection_hooks.unregister_signal_raiser(raiser)
    m1.refresh_from_db()
    assert m1.state == S.OVERDUE and m1.escalated_at is not None
    assert [r["code"] for r in raised if r["observed"]["inspection"] == m1.pk] == [
        "W_INSPECTION_OVERDUE"]
    for callback in callbacks:
        callback()
    lead = world.user("lead.north")
    escalations = [m for m in mail.outbox if lead.email in m.to]
    assert len(escalations) == (1 if lead.email else 0)
    assert AuditEvent.objects.filter(action="inspection.overdue",
                                     subject_id=str(m1.pk)).count() == 1
    # Still completable: started and submitted late, recorded as not on time.
    officer = world.user("postloan.north")
    inspection_start(inspection_id=m1.pk, actor=officer)
    answer_all_m1(m1, officer)
    late = inspection_submit(inspection_id=m1.pk, actor=officer, **CONCLUSION)
    assert late.state == S.SUBMITTED and late.done_on_time is False


class django_capture_on_commit:
    """Collect on-commit callbacks of the test transaction (they never run otherwise)."""

    def __enter__(self):
        from django.db import connection

        self.start = len(connection.run_on_commit)
        self.callbacks = []
        return self.callbacks

    def __exit__(self, *exc):
        from django.db import connection

        self.callbacks.extend(c[1] for c in connection.run_on_commit[self.start:])
        return False
