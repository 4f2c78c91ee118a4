"""Queues per kind of work, through the real path: outbox → Redis → a worker of one queue.

A worker started with `--queues interactive` (as docker-compose's worker-interactive is) runs an
interactive task sent through the transactional outbox, while a bulk task sent in the same
transaction waits on the `bulk` queue, untouched: a re-score can fill `bulk` without delaying
what a person waits for. Needs PostgreSQL and Redis (see conftest.py).
"""

import time

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.models import OutboxMessage, OutboxState, TaskProbe
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.core.task_routes import Queue
from config.celery import app
from tests.integration.test_worker_roundtrip import _wait_executed, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _waiting(queue: str) -> int:
    """Messages waiting on a queue, read from Redis itself (kombu keeps a queue as a list
    named after it; a passive declare would call an empty queue missing)."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(queue)


@pytest.fixture
def empty_queues():
    app.control.purge()  # nothing left over from another run
    yield
    app.control.purge()  # the bulk message this test leaves must not reach a later worker


def test_each_task_lands_on_its_queue_and_only_that_queues_worker_runs_it(empty_queues):
    with worker_process("--queues", str(Queue.INTERACTIVE), "--pool", "solo") as (_, hostname):
        with transaction.atomic():
            probe = TaskProbe.objects.create()
            enqueue_on_commit(TaskName.CORE_PING, probe_id=str(probe.pk))
            # A re-score of a job that does not exist: it must never run here, only wait.
            enqueue_on_commit(TaskName.SCORING_RESCORE, job_id=2_000_000_000)

        executed = _wait_executed(probe.pk)
        assert executed.worker_hostname == hostname  # the interactive queue's own worker
        # Both left through the outbox's fast path; the bulk one sits where bulk workers read.
        assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.SENT}
        time.sleep(1)  # give the interactive worker every chance to (wrongly) take it
        assert _waiting(str(Queue.BULK)) == 1
        assert _waiting(str(Queue.INTERACTIVE)) == 0
        assert _waiting(str(Queue.PERIODIC)) == 0


def test_the_relay_publishes_to_the_routed_queue_too(empty_queues):
    """The outbox relay (the broker was down at commit) goes through the same router."""
    from apps.core.outbox import outbox_relay

    # A row the fast path never sent (as after a broker outage), due now.
    OutboxMessage.objects.create(task_name=str(TaskName.CORE_OUTBOX_RELAY), kwargs={},
                                 available_at=timezone.now())

    assert outbox_relay()["sent"] == 1
    assert _waiting(str(Queue.PERIODIC)) == 1
    assert _waiting(str(Queue.BULK)) == 0 and _waiting(str(Queue.INTERACTIVE)) == 0
