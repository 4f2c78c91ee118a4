"""The transactional outbox (issue 16): a task asked for by a committed transaction is never
lost, a rolled-back one never sent, a broker failure never reaches the caller, and two relays
never send one message twice at once."""

import datetime as dt
import threading
import time
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core import outbox
from apps.core.models import OutboxMessage, OutboxState
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName

SEND = "apps.core.queue.current_app.send_task"
LATER = dt.timedelta(minutes=5)


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(outbox.OutsideTransaction):
        enqueue_on_commit(TaskName.CORE_PING, probe_id=None)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_message(django_capture_on_commit_callbacks):
    with (mock.patch(SEND) as send, django_capture_on_commit_callbacks(execute=True),
          pytest.raises(ZeroDivisionError), transaction.atomic()):
        enqueue_on_commit(TaskName.CORE_PING, probe_id="x")
        1 / 0  # noqa: B018 - the change fails after asking for work
    assert not OutboxMessage.objects.exists()
    send.assert_not_called()


@pytest.mark.django_db
def test_the_message_is_written_in_the_transaction_and_sent_after_commit(
        django_capture_on_commit_callbacks):
    with mock.patch(SEND) as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue_on_commit(TaskName.APPLICATION_SCORE, application_id=7, trigger="on_demand")
        message = OutboxMessage.objects.get()
        assert message.state == OutboxState.PENDING and send.call_count == 0
        callbacks[0]()
    send.assert_called_once_with("scoring.application_score",
                                 kwargs={"application_id": 7, "trigger": "on_demand"},
                                 task_id=str(message.task_id), retry=False)
    message.refresh_from_db()
    assert (message.state, message.attempts, message.sent_at is not None) == (
        OutboxState.SENT, 1, True)


@pytest.mark.django_db
def test_a_broker_down_at_commit_keeps_the_message_and_the_caller_never_sees_it(
        django_capture_on_commit_callbacks):
    with (mock.patch(SEND, side_effect=OperationalError("Connection refused")),
          django_capture_on_commit_callbacks(execute=True)):
        enqueue_on_commit(TaskName.CORE_PING, probe_id="x")  # no exception here
    message = OutboxMessage.objects.get()
    assert message.state == OutboxState.PENDING and message.attempts == 1
    assert "Connection refused" in message.last_error
    assert message.available_at > timezone.now()  # backed off, the relay owns it now


def _pending(n: int, *, due: bool = True) -> list[OutboxMessage]:
    at = timezone.now() - (dt.timedelta(seconds=1) if due else -LATER)
    return OutboxMessage.objects.bulk_create(
        [OutboxMessage(task_name="core.ping", kwargs={"probe_id": str(i)}, available_at=at)
         for i in range(n)])


@pytest.mark.django_db
def test_the_relay_sends_due_messages_and_leaves_the_rest():
    _pending(3)
    [later] = _pending(1, due=False)
    with mock.patch(SEND) as send:
        counts = outbox.outbox_relay()
    assert counts["sent"] == 3 and send.call_count == 3
    assert OutboxMessage.objects.filter(state=OutboxState.SENT).count() == 3
    later.refresh_from_db()
    assert later.state == OutboxState.PENDING and later.attempts == 0


@pytest.mark.django_db
def test_the_relay_stops_at_the_first_broker_failure_and_backs_off():
    _pending(5)
    with mock.patch(SEND, side_effect=OperationalError("down")) as send:
        counts = outbox.outbox_relay()
    # One attempt used, not five: the others were not tried against a dead broker.
    assert send.call_count == 1 and counts["failed_attempts"] == 1
    assert sorted(OutboxMessage.objects.values_list("attempts", flat=True)) == [0, 0, 0, 0, 1]


@pytest.mark.django_db
def test_after_the_attempt_limit_a_message_is_visibly_failed_and_can_be_requeued(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    [message] = _pending(1)
    now = timezone.now()
    with mock.patch(SEND, side_effect=OperationalError("down")):
        for _ in range(3):
            outbox.outbox_relay(now=now)
            now += dt.timedelta(hours=2)  # past any back-off
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxState.FAILED, 3)
    assert message.last_error == "OperationalError: down"
    with mock.patch(SEND) as send:
        outbox.outbox_relay(now=now)
        send.assert_not_called()  # failed rows wait for a person
        assert outbox.outbox_requeue(message_ids=[message.pk]) == 1
        outbox.outbox_relay()
        send.assert_called_once()


def test_back_off_grows_and_is_capped():
    delays = [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 10, 30)]
    assert delays == [30, 60, 120, 1800, 1800]


# Two relays at once need row locks with SKIP LOCKED: PostgreSQL.
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_send_each_message_once():
    if connection.vendor != "postgresql":
        pytest.fail("SKIP LOCKED is tested on PostgreSQL (DATABASE_URL)")
    _pending(60)
    sent, barrier, errors = [], threading.Barrier(2), []
    lock = threading.Lock()

    def slow_send(name, kwargs, task_id, retry):
        time.sleep(0.005)  # keep both relays inside their batches at the same time
        with lock:
            sent.append(task_id)

    def relay():
        try:
            barrier.wait()
            outbox.outbox_relay(batch_size=10)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch(SEND, side_effect=slow_send):
        threads = [threading.Thread(target=relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert len(sent) == 60 and len(set(sent)) == 60
    assert OutboxMessage.objects.filter(state=OutboxState.SENT).count() == 60


@pytest.mark.django_db
def test_after_a_refused_send_the_fast_path_pauses_and_the_relay_takes_over(
        settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.OUTBOX_FAST_PATH_PAUSE_SECONDS = 15
    monkeypatch.setattr(outbox, "_fast_path_paused_until", 0.0)
    with mock.patch(SEND, side_effect=OperationalError("down")) as send:
        for n in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                enqueue_on_commit(TaskName.CORE_PING, probe_id=str(n))
    assert send.call_count == 1  # each request does not pay for the dead broker again
    assert OutboxMessage.objects.filter(state=OutboxState.PENDING).count() == 3
    with mock.patch(SEND) as send:
        assert outbox.outbox_relay(now=timezone.now() + LATER)["sent"] == 3
