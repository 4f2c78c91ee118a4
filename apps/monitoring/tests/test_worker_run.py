"""The monthly run through a real Celery worker on Redis and PostgreSQL: the beat task
records the run and enqueues its chunks after commit; the worker classifies them."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from apps.monitoring.models import ClassificationRun, LoanRiskStatus, Signal
from apps.monitoring.tasks import classification_run_start_task
from config.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loans(transactional_db):
    from apps.monitoring.tests.factories import World

    world = World()
    return [world.loan(dpd=95), world.loan()]


def test_monthly_run_in_a_real_worker(loans):
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10):
        classification_run_start_task.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = ClassificationRun.objects.filter(state="done").first()
            if run:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run did not finish within 60 s")
    assert run.as_of < timezone.localdate() and run.loans_total == 2
    assert LoanRiskStatus.objects.get(loan=loans[0]).floor == "substandard"
    # W01 from the run; the booking's covenant task may also have raised W26 by now (the loan
    # was booked 400 days after its value date with no annual review: back-filled, overdue).
    assert Signal.objects.get(loan=loans[0], code="W01").level == 3
    assert set(Signal.objects.filter(loan=loans[0]).values_list("code", flat=True)) <= {
        "W01", "W26"}
