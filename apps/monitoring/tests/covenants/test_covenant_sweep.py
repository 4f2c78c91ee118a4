"""The daily sweep: reminders in the policy window, overdue marking with signal W26,
escalation to the branch head after the policy days, and reruns that change nothing."""

import datetime as dt

from django.core import mail
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import AnnualReview, CovenantCheck, MonitoringNotice
from apps.monitoring.models import Signal

from .conftest import COVENANTS


def _run(loan, day, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.covenant_sweep_chunk(loan_ids=[loan.pk], today=day)


def test_sweep_enqueues_chunks_of_open_loans(world, covenant_loan):
    loans = [covenant_loan() for _ in range(3)]
    covenant_loan(state="settled")
    before = OutboxMessage.objects.count()
    result = services.covenant_sweep(chunk_size=2)
    assert result == {"loans": 3, "chunks": 2}
    sent = OutboxMessage.objects.order_by("id")[before:]
    assert [m.task_name for m in sent] == ["monitoring.covenant_sweep_chunk"] * 2
    queued = sorted(i for m in sent for i in m.kwargs["loan_ids"])
    assert queued == sorted(loan.pk for loan in loans)


def test_remind_overdue_escalate_once(world, covenant_loan, django_capture_on_commit_callbacks):
    # One covenant; the year-1 review (anniversary passed, back-filled) is done at once, and
    # there is no year-2 review (the second anniversary is the maturity date).
    loan = covenant_loan(value_days_ago=400, covenants=COVENANTS[:1])
    services.covenant_schedule_generate(loan_id=loan.pk)
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    review = AnnualReview.objects.get(loan=loan)
    assert review.year == 1 and review.policy_basis["backfilled"] == {"value": "true"}
    services.annual_review_submit(review_id=review.pk, actor=officer, outcome="satisfactory",
                                  note="Reviewed the year's statements")
    services.annual_review_accept(review_id=review.pk, actor=lead)
    check = CovenantCheck.objects.get(loan=loan)
    for person in (officer, lead):
        person.email = f"{person.username}@bank.example"
        person.save(update_fields=["email"])
    # Outside the reminder window (7 days): nothing.
    quiet = _run(loan, check.due_date - dt.timedelta(days=8), django_capture_on_commit_callbacks)
    assert quiet["reminded"] == 0
    check.refresh_from_db()
    assert check.state == "scheduled"
    # In the window: due, one reminder to the loan's officer (in-app and mail).
    day = check.due_date - dt.timedelta(days=7)
    assert _run(loan, day, django_capture_on_commit_callbacks)["reminded"] == 1
    check.refresh_from_db()
    assert check.state == "due" and check.reminded_at is not None
    notice = MonitoringNotice.objects.get(subject=f"covenant_check:{check.pk}")
    assert notice.kind == "reminder" and notice.recipient == officer
    assert loan.loan_number in notice.message
    assert [m.to for m in mail.outbox] == [[officer.email]]
    assert _run(loan, day, django_capture_on_commit_callbacks)["reminded"] == 0
    # Past the due date: overdue, and W26 (level 1) on the loan.
    late = check.due_date + dt.timedelta(days=1)
    assert _run(loan, late, django_capture_on_commit_callbacks)["overdue"] == 1
    check.refresh_from_db()
    assert check.state == "overdue"
    w26 = Signal.objects.get(loan=loan, code="W26")
    assert w26.level == 1 and w26.state == "open"
    # Not yet the escalation day (5 days after due): nobody else told.
    assert _run(loan, late, django_capture_on_commit_callbacks)["escalated"] == 0
    escalation_day = check.due_date + dt.timedelta(days=5)
    assert _run(loan, escalation_day, django_capture_on_commit_callbacks)["escalated"] == 1
    assert mail.outbox[-1].to == [lead.email] and "Overdue" in mail.outbox[-1].subject
    escalated = MonitoringNotice.objects.get(subject=f"covenant_check:{check.pk}",
                                             kind="escalation")
    assert escalated.recipient == lead
    assert not MonitoringNotice.objects.filter(kind="escalation",
                                               recipient=world.user("lead.south")).exists()
    # Reruns change nothing: no second notice, event or signal.
    counts = (MonitoringNotice.objects.count(), AuditEvent.objects.count(),
              Signal.objects.filter(loan=loan).count())
    for _ in range(2):
        again = _run(loan, escalation_day, django_capture_on_commit_callbacks)
        assert (again["reminded"], again["overdue"], again["escalated"]) == (0, 0, 0)
    assert counts == (MonitoringNotice.objects.count(), AuditEvent.objects.count(),
                      Signal.objects.filter(loan=loan).count())
    events = set(AuditEvent.objects.filter(subject_id=str(check.pk), action__startswith=(
        "covenant_check.")).values_list("action", flat=True))
    assert {"covenant_check.reminded", "covenant_check.overdue",
            "covenant_check.escalated"} <= events
    # Submitted late: its notices leave the work lists, kept as the record of who was told.
    services.covenant_check_submit(check_id=check.pk, actor=officer, result="complied",
                                   note="Statements received late")
    notices = MonitoringNotice.objects.filter(subject=f"covenant_check:{check.pk}")
    assert notices.count() == 2 and not notices.filter(read_at__isnull=True).exists()


def test_review_first_seen_late_goes_straight_to_overdue(world, scheduled,
                                                          django_capture_on_commit_callbacks):
    loan, _check, review = scheduled
    late = review.due_date + dt.timedelta(days=2)
    result = _run(loan, late, django_capture_on_commit_callbacks)
    review.refresh_from_db()
    assert review.state == "overdue" and review.reminded_at is None
    assert not MonitoringNotice.objects.filter(subject=f"annual_review:{review.pk}",
                                               kind="reminder").exists()
    assert result["overdue"] >= 1
    # Submitting late is allowed, and once nothing is overdue W26 resolves with a note.
    for item in loan_overdue_checks(loan):
        services.covenant_check_submit(check_id=item.pk, actor=world.user("postloan.north"),
                                       result="complied", note="Late but done")
    services.annual_review_submit(review_id=review.pk, actor=world.user("postloan.north"),
                                  outcome="satisfactory", note="Done late")
    w26 = Signal.objects.get(loan=loan, code="W26")
    assert w26.state == "closed" and w26.close_note


def loan_overdue_checks(loan):
    return list(CovenantCheck.objects.filter(loan=loan, state="overdue"))


def test_sweep_skips_a_loan_without_policy(world, scheduled, covenant_loan,
                                           django_capture_on_commit_callbacks):
    from apps.investigations.models import PolicyValue
    from apps.monitoring.covenant_policy import CK

    loan, check, _review = scheduled
    PolicyValue.objects.filter(key=CK.REMIND_DAYS).delete()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.covenant_sweep_chunk(loan_ids=[loan.pk],
                                               today=timezone.localdate())
    assert result == {}
    check.refresh_from_db()
    assert check.state == "scheduled"
