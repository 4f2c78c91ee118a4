import os

from celery import shared_task
from django.utils import timezone

from apps.core.task_names import TaskName


@shared_task(name=TaskName.CORE_PING, bind=True, acks_late=True, reject_on_worker_lost=True)
def ping(self, probe_id: str | None = None) -> str:
    """Prove the worker runs what the web sent: stamp the probe with this worker's name and pid.

    Idempotent (only an unexecuted probe is stamped), so a redelivery after a crash is harmless.
    With no probe id it is a pure no-op, the payload of the broker round-trip benchmark.
    """
    if probe_id is None:
        return "pong"
    from apps.core.models import TaskProbe

    TaskProbe.objects.filter(pk=probe_id, executed_at__isnull=True).update(
        executed_at=timezone.now(), worker_hostname=self.request.hostname or "",
        worker_pid=os.getpid(),
    )
    return "pong"


@shared_task(name=TaskName.CORE_IDEMPOTENCY_PURGE)
def idempotency_purge() -> int:
    """Nightly: delete idempotency records past their lifetime (a day by default); a client
    retrying later than that is sending a new request. Idempotent: it only deletes."""
    from apps.core.idempotency import idempotency_purge as purge

    return purge()


@shared_task(name=TaskName.CORE_OUTBOX_RELAY, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def outbox_relay() -> dict:
    """Every minute: send outbox messages the fast path could not (broker down at commit),
    with back-off, and mark those past the attempt limit failed. Idempotent: rows are claimed
    with SKIP LOCKED and sent ones are never picked again."""
    from apps.core.outbox import outbox_relay as relay

    return relay()
