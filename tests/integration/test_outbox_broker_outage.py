"""Durable hand-off through a real broker outage (issue 16): with the broker unreachable at
commit, a command still answers success, its replay needs no broker, the task waits in the
outbox, and once the broker is back the relay delivers it and a real worker does the work."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from apps.core import outbox
from apps.core.models import OutboxMessage, OutboxState
from apps.core.tests.outage import broker_back, broker_down
from apps.scoring.models import ScoreResult

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, *, timeout: float = 60, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not reached within {timeout:.0f} s")


def test_score_now_survives_a_broker_outage_and_is_delivered_once_it_is_back(
        world, api_as, live_worker, monkeypatch):
    # A producer pointed at a closed port: what the web sees while Redis is down. The
    # investigation's acceptance (which asks for a score too) already meets the outage.
    broker_down(monkeypatch)
    application = world.in_state("investigating")

    reviewer = api_as("reviewer.north")
    url = f"/api/v1/applications/{application.pk}/score-now/"
    started = time.monotonic()
    first = reviewer.post(url, HTTP_IDEMPOTENCY_KEY="score-now-1")
    assert first.status_code == 202, first.content  # committed, so not a 500
    assert time.monotonic() - started < 15  # the web does not hang on the dead broker
    replay = reviewer.post(url, HTTP_IDEMPOTENCY_KEY="score-now-1")
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"

    message = OutboxMessage.objects.get(task_name="scoring.application_score",
                                        kwargs__trigger="on_demand")
    assert message.kwargs["application_id"] == application.pk
    assert message.state == OutboxState.PENDING and message.attempts == 1
    assert message.last_error
    assert not ScoreResult.objects.filter(application=application).exists()

    # The relay during the outage keeps everything pending (it stops at the first refusal) ...
    counts = outbox.outbox_relay(now=timezone.now() + dt.timedelta(minutes=5))
    assert counts == {"sent": 0, "failed_attempts": 1, "gave_up": 0}
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.PENDING}

    # ... and delivers it once the broker is back; the real worker scores the application.
    broker_back(monkeypatch)
    counts = outbox.outbox_relay(now=timezone.now() + dt.timedelta(hours=1))
    assert counts["sent"] == OutboxMessage.objects.count() >= 2  # acceptance + score-now
    message.refresh_from_db()
    assert message.state == OutboxState.SENT
    result = wait_for(lambda: ScoreResult.objects.filter(application=application).first(),
                      what="the score")
    assert result.application_id == application.pk
    # The replay added no work; nothing is left behind.
    assert OutboxMessage.objects.filter(kwargs__trigger="on_demand").count() == 1
    assert not OutboxMessage.objects.exclude(state=OutboxState.SENT).exists()
