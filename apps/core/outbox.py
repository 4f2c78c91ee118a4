"""Transactional outbox: the durable hand-off from the database to the Celery workers.

Why: `transaction.on_commit(send_task)` loses the task when the broker is down at that instant,
after the client was already told the change committed (issue 16: score-now lost, uploads'
checks lost, committed commands answering 500). Here the task is a row written in the same
transaction as the change that asks for it, so it exists exactly when the change does:

1. `outbox_add` (through `apps.core.queue.enqueue_on_commit`) inserts the row and registers a
   robust on-commit callback;
2. after commit that callback tries to send at once (the fast path: no added latency when the
   broker is up); a failure is recorded on the row and never reaches the caller;
3. the relay (`core.outbox_relay`, beat every minute, or `manage.py outbox_relay --loop`)
   sends due rows with bounded attempts and capped exponential back-off; a row that runs out of
   attempts is `failed`, visible in the admin with its last error, and can be re-queued there.

Delivery is at least once (a crash between the send and the row update re-sends), so every
receiving task is idempotent (CONVENTIONS §4). Each row keeps one Celery task id across
re-sends, so duplicates are recognisable in worker logs. Two relays never send the same row at
the same time: rows are claimed with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite
serialises writers anyway).

Why not a library: django-celery-outbox (the one maintained Celery outbox on PyPI) replaces
the Celery application class, intercepting every send (beat's included), and needs its own
relay daemon; we need only sends by name from services, an immediate send after commit and a
beat-driven relay, which this module does in about a hundred lines on our own settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, f"OUTBOX_{name}", default)


def relay_grace() -> dt.timedelta:
    """How long the relay leaves a new row to the fast path, so one send is the rule."""
    return dt.timedelta(seconds=_setting("RELAY_GRACE_SECONDS", 10))


def retry_delay(attempts: int) -> dt.timedelta:
    """Capped exponential back-off after the n-th failed attempt (30 s, 1 min, 2 min … 30 min):
    a broker outage is retried often at first and not hammered later."""
    base, cap = _setting("BACKOFF_SECONDS", 30), _setting("BACKOFF_MAX_SECONDS", 1800)
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


class OutsideTransaction(RuntimeError):
    """`enqueue_on_commit` outside `atomic()`: there is no transaction for the row to share."""


def outbox_add(*, task_name: str, kwargs: dict) -> OutboxMessage:
    """Record a task in the caller's transaction and send it right after commit.

    Refuses to run outside `atomic()`: in autocommit the row and the change would be two
    transactions, which is the very gap the outbox closes. `kwargs` must be JSON (ids, codes).
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction("enqueue_on_commit() must run inside transaction.atomic()")
    message = OutboxMessage.objects.create(
        task_name=str(task_name), kwargs=kwargs, available_at=timezone.now() + relay_grace())
    # robust: a failing callback registered before ours must not stop this send, and ours
    # never raises into the caller, whose change has committed.
    transaction.on_commit(lambda: outbox_send_now(message_id=message.pk), robust=True)
    return message


def _publish(message: OutboxMessage) -> None:
    """Hand one message to the broker; raises on any failure. No kombu retries: the relay
    owns retrying, and a web request must not hang on a broker that is down."""
    current_app.send_task(message.task_name, kwargs=message.kwargs,
                          task_id=str(message.task_id), retry=False)


def _mark_sent(message: OutboxMessage, now: dt.datetime) -> None:
    message.state, message.sent_at = OutboxState.SENT, now
    message.attempts += 1
    message.last_error = ""
    message.save(update_fields=["state", "sent_at", "attempts", "last_error"])


def _mark_failed_attempt(message: OutboxMessage, exc: BaseException, now: dt.datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= _setting("MAX_ATTEMPTS", 12):
        message.state = OutboxState.FAILED
        log.error("outbox message %s (%s) failed after %d attempts: %s", message.pk,
                  message.task_name, message.attempts, message.last_error)
    else:
        message.available_at = now + retry_delay(message.attempts)
    message.save(update_fields=["state", "attempts", "last_error", "available_at"])


# Monotonic time until which this process skips the fast path: a refused connection costs
# seconds (the Redis client's own reconnect back-off), which every request would otherwise
# pay while the broker is down. The relay still tries every minute; its first success is
# the broker's return, and the pause is short, so the fast path comes back on its own.
_fast_path_paused_until = 0.0


def outbox_send_now(*, message_id: int) -> bool:
    """The fast path, run after the caller's commit: send one message if nobody else holds
    it. Never raises: the change is committed and the relay will retry. True when sent.
    After a failed send, the process leaves new messages to the relay for a few seconds."""
    global _fast_path_paused_until
    if time.monotonic() < _fast_path_paused_until:
        return False
    try:
        with transaction.atomic():
            message = (OutboxMessage.objects.select_for_update(no_key=True, skip_locked=True)
                       .filter(pk=message_id, state=OutboxState.PENDING).first())
            if message is None:
                return False  # the relay has it, or it was already sent
            now = timezone.now()
            try:
                _publish(message)
            except Exception as exc:  # noqa: BLE001 - any broker failure: the relay retries
                log.warning("outbox: send of %s #%s failed, the relay will retry: %s",
                            message.task_name, message.pk, exc)
                _fast_path_paused_until = (time.monotonic()
                                           + _setting("FAST_PATH_PAUSE_SECONDS", 15))
                _mark_failed_attempt(message, exc, now)
                return False
            _mark_sent(message, now)
            return True
    except Exception:  # noqa: BLE001 - e.g. the database went away after commit
        log.exception("outbox: could not record the send of message %s", message_id)
        return False


def outbox_relay(*, now: dt.datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Send every pending message that is due, in batches; stop at the first broker failure
    (the broker is down: trying the rest would only use up their attempts). Returns counts.
    Also deletes sent rows older than OUTBOX_KEEP_SENT_DAYS."""
    counts = {"sent": 0, "failed_attempts": 0, "gave_up": 0}
    while True:
        current = now or timezone.now()
        with transaction.atomic():
            batch = list(OutboxMessage.objects.select_for_update(no_key=True, skip_locked=True)
                         .filter(state=OutboxState.PENDING, available_at__lte=current)
                         .order_by("available_at", "id")[:batch_size])
            broker_down = False
            for message in batch:
                try:
                    _publish(message)
                except Exception as exc:  # noqa: BLE001 - recorded on the row
                    _mark_failed_attempt(message, exc, current)
                    counts["failed_attempts"] += 1
                    counts["gave_up"] += message.state == OutboxState.FAILED
                    broker_down = True
                    break
                _mark_sent(message, current)
                counts["sent"] += 1
        if broker_down or len(batch) < batch_size or now is not None:
            break
    keep = dt.timedelta(days=_setting("KEEP_SENT_DAYS", 7))
    old = list(OutboxMessage.objects.filter(state=OutboxState.SENT,
                                            sent_at__lt=(now or timezone.now()) - keep)
               .values_list("pk", flat=True)[:10_000])
    if old:
        OutboxMessage.objects.filter(pk__in=old).delete()
    if counts["sent"] or counts["failed_attempts"]:
        log.info("outbox relay: %s", counts)
    return counts


def outbox_requeue(*, message_ids) -> int:
    """An operator puts failed messages back in the queue (admin action), attempts reset."""
    return (OutboxMessage.objects.filter(pk__in=list(message_ids), state=OutboxState.FAILED)
            .update(state=OutboxState.PENDING, attempts=0, available_at=timezone.now()))
