"""Covenants scheduled at booking: a booked or activated loan asks for
`monitoring.covenant_schedule_generate` through the outbox, in the booking's transaction (a
rolled-back booking asks for nothing); the task schedules the contract's covenants and the
annual review, and back-fills a missed annual review once: overdue, W26 raised and the branch
head told, never twice however often it runs."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.loans.services.lifecycle import loan_activate
from apps.monitoring.covenant_models import (
    AnnualReview,
    Covenant,
    CovenantCheck,
    MonitoringNotice,
)
from apps.monitoring.covenant_services import covenant_sweep_chunk
from apps.monitoring.covenant_tasks import covenant_schedule_generate_task
from apps.monitoring.models import Signal

from .conftest import COVENANTS

TASK = "monitoring.covenant_schedule_generate"


def _asked_for(loan) -> int:
    return OutboxMessage.objects.filter(task_name=TASK, kwargs={"loan_id": loan.pk}).count()


def test_booking_records_the_schedule_task_in_its_transaction(world, covenant_loan):
    loan = covenant_loan()
    assert _asked_for(loan) == 1
    # A booking that rolls back leaves no message behind.
    before = OutboxMessage.objects.filter(task_name=TASK).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        world.loan()
        raise RuntimeError("booking failed after the insert")
    assert OutboxMessage.objects.filter(task_name=TASK).count() == before


def test_activation_asks_again(world, covenant_loan):
    loan = covenant_loan(state="pending", value_days_ago=0)
    assert _asked_for(loan) == 1
    assert loan_activate(loan_id=loan.pk) is not None
    assert _asked_for(loan) == 2


def test_task_schedules_the_contract_covenants_and_review(world, covenant_loan):
    loan = covenant_loan()
    covenant_schedule_generate_task.run(loan_id=loan.pk)
    assert Covenant.objects.filter(loan=loan).count() == len(COVENANTS)
    assert CovenantCheck.objects.filter(loan=loan).count() == len(COVENANTS)
    review = AnnualReview.objects.get(loan=loan)
    assert review.year == 1 and "backfilled" not in review.policy_basis
    # Delivered twice (at least once): nothing more.
    covenant_schedule_generate_task.run(loan_id=loan.pk)
    assert CovenantCheck.objects.filter(loan=loan).count() == len(COVENANTS)


def test_missed_annual_review_back_filled_once_overdue_and_escalated(world, covenant_loan):
    # Booked late: the first anniversary passed 70 days ago without a review.
    loan = covenant_loan(value_days_ago=435, covenants=[])
    lead = world.user("lead.north")
    covenant_schedule_generate_task.run(loan_id=loan.pk)
    missed = AnnualReview.objects.get(loan=loan, year=1)
    assert missed.policy_basis["backfilled"] == {"value": "true"}
    assert missed.state == "overdue" and missed.escalated_at is not None
    assert Signal.objects.get(loan=loan, code="W26").state == "open"
    assert MonitoringNotice.objects.get(subject=f"annual_review:{missed.pk}",
                                        kind="escalation").recipient == lead
    # No year-2 review: its anniversary is the maturity date.
    assert list(AnnualReview.objects.filter(loan=loan).order_by("year")
                .values_list("year", flat=True)) == [1]
    counts = (AnnualReview.objects.count(), Signal.objects.filter(loan=loan).count(),
              MonitoringNotice.objects.count(),
              AuditEvent.objects.filter(action="annual_review.escalated").count())
    for day in (timezone.localdate(), timezone.localdate() + dt.timedelta(days=3)):
        covenant_schedule_generate_task.run(loan_id=loan.pk)
        covenant_sweep_chunk(loan_ids=[loan.pk], today=day)
    assert counts == (AnnualReview.objects.count(), Signal.objects.filter(loan=loan).count(),
                      MonitoringNotice.objects.count(),
                      AuditEvent.objects.filter(action="annual_review.escalated").count())


def test_longer_loan_back_fills_only_the_latest_missed_year(world, covenant_loan):
    loan = covenant_loan(value_days_ago=800, covenants=[])
    loan.maturity_date = loan.value_date + dt.timedelta(days=365 * 4)
    loan.save(update_fields=["maturity_date"])
    covenant_schedule_generate_task.run(loan_id=loan.pk)
    years = sorted(AnnualReview.objects.filter(loan=loan).values_list("year", flat=True))
    assert years == [2, 3]  # year 2 missed (back-filled), year 3 ahead; year 1 not repeated
