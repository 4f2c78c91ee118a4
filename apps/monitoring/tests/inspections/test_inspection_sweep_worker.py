"""With a real Celery worker (CONVENTIONS §4): booking a loan schedules its checks; the daily
sweep regenerates a lost schedule in chunks, then marks the missed first check overdue and
escalates it once."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_services import inspection_sweep
from apps.monitoring.inspection_states import InspectionState
from apps.monitoring.tests.inspections.inspection_factories import make_loan


def _wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not reach the expected state")


@pytest.mark.django_db(transaction=True)
def test_sweep_generates_then_marks_overdue_through_the_worker(on_postgresql, live_worker,
                                                                 world):
    loan = make_loan(world, value_date=timezone.localdate() - dt.timedelta(days=40))
    # Booking the loan sent the schedule task after commit: the worker creates the checks.
    _wait_for(lambda: Inspection.objects.filter(loan=loan, kind="m1").exists())
    Inspection.objects.filter(loan=loan).delete()  # as if that message had been lost
    assert inspection_sweep(chunk_size=1)["loans"] >= 1
    _wait_for(lambda: Inspection.objects.filter(loan=loan, kind="m1").exists())
    m1 = Inspection.objects.get(loan=loan, kind="m1")
    assert inspection_sweep()["overdue"] >= 1
    _wait_for(lambda: Inspection.objects.get(pk=m1.pk).state == InspectionState.OVERDUE)
    inspection_sweep()  # a second run escalates nothing twice
    _wait_for(lambda: not Inspection.objects.filter(
        pk=m1.pk, overdue_at__isnull=True).exists())
    assert AuditEvent.objects.filter(action="inspection.overdue",
                                     subject_id=str(m1.pk)).count() == 1
    assert Inspection.objects.filter(loan=loan, kind="m1").count() == 1
