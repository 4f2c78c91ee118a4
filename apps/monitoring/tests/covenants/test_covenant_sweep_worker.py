"""With a real Celery worker (CONVENTIONS §4): the daily covenant sweep sends its chunks
through the outbox; the worker schedules the contract's covenants, marks a missed check
overdue with W26 and escalates it once, however often the sweep runs."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.monitoring.covenant_models import Covenant, CovenantCheck, MonitoringNotice
from apps.monitoring.covenant_services import covenant_sweep, covenant_sweep_chunk
from apps.monitoring.models import Signal


def _wait_for(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not reach the expected state")


@pytest.mark.django_db(transaction=True)
def test_sweep_through_the_worker(on_postgresql, live_worker, world, covenant_loan):
    loan = covenant_loan()
    assert covenant_sweep(chunk_size=1)["loans"] >= 1
    _wait_for(lambda: CovenantCheck.objects.filter(loan=loan).count() == 2)
    # A check missed ten days ago (past the 5-day escalation policy).
    first = Covenant.objects.filter(loan=loan).order_by("id").first()
    missed = CovenantCheck.objects.create(
        covenant=first, loan=loan, branch=loan.branch,
        due_date=timezone.localdate() - dt.timedelta(days=10))
    covenant_sweep()
    _wait_for(lambda: CovenantCheck.objects.filter(pk=missed.pk,
                                                   escalated_at__isnull=False).exists())
    # A re-sent chunk (at-least-once delivery) escalates nothing twice.
    rerun = covenant_sweep_chunk(loan_ids=[loan.pk])
    assert (rerun["overdue"], rerun["escalated"]) == (0, 0)
    assert CovenantCheck.objects.get(pk=missed.pk).state == "overdue"
    assert Signal.objects.filter(loan=loan, code="W26").count() == 1
    assert AuditEvent.objects.filter(action="covenant_check.escalated",
                                     subject_id=str(missed.pk)).count() == 1
    assert MonitoringNotice.objects.filter(subject=f"covenant_check:{missed.pk}",
                                           kind="escalation").count() == 1
