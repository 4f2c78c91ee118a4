"""With a real worker and the broker down at the booking's commit: the booking commits, its
covenant schedule waits in the outbox, and once the broker is back the relay delivers it and
the worker schedules the covenants (CONVENTIONS §4 "committed means done")."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from apps.core import outbox
from apps.core.models import OutboxMessage, OutboxState
from apps.core.tests.outage import broker_back, broker_down
from apps.monitoring.covenant_models import AnnualReview, CovenantCheck

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not reach the expected state")


def test_broker_down_at_booking_still_reaches_the_worker(live_worker, world, covenant_loan,
                                                         monkeypatch):
    broker_down(monkeypatch)
    loan = covenant_loan()  # the booking commits while the broker refuses connections
    message = OutboxMessage.objects.get(task_name="monitoring.covenant_schedule_generate",
                                        kwargs={"loan_id": loan.pk})
    assert message.state == OutboxState.PENDING and message.last_error
    assert not CovenantCheck.objects.filter(loan=loan).exists()
    broker_back(monkeypatch)
    assert outbox.outbox_relay(now=timezone.now() + dt.timedelta(minutes=1))["sent"] >= 1
    _wait_for(lambda: CovenantCheck.objects.filter(loan=loan).count() == 2
              and AnnualReview.objects.filter(loan=loan).exists())
    message.refresh_from_db()
    assert message.state == OutboxState.SENT
