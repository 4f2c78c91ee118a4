"""Celery tasks for covenant checks and annual reviews: ids in, one service call
(CONVENTIONS §4). Idempotent (unique schedule rows, stamped notices), hence late acks."""

import datetime as dt

from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.MONITORING_COVENANT_SWEEP, acks_late=True,
             reject_on_worker_lost=True)
def covenant_sweep_task() -> dict:
    """Beat, daily 00:50: enqueue the open loans in chunks."""
    from apps.monitoring import covenant_services

    return covenant_services.covenant_sweep()


@shared_task(name=TaskName.MONITORING_COVENANT_CHUNK, acks_late=True,
             reject_on_worker_lost=True)
def covenant_sweep_chunk_task(loan_ids: list[int], today: str | None = None) -> dict:
    """Schedule, remind, mark overdue and escalate for a chunk of loans."""
    from apps.monitoring import covenant_services

    return covenant_services.covenant_sweep_chunk(
        loan_ids=loan_ids, today=dt.date.fromisoformat(today) if today else None)


@shared_task(name=TaskName.MONITORING_COVENANT_SCHEDULE, acks_late=True,
             reject_on_worker_lost=True)
def covenant_schedule_generate_task(loan_id: int) -> dict:
    """One loan at booking or activation: record its contract's covenants, schedule their
    checks and the annual review (back-filling a missed one), and work what is already due.
    Sent through the outbox in the booking's transaction, so a committed booking always gets
    its schedule; the daily sweep repeats it harmlessly (idempotent)."""
    from apps.monitoring import covenant_services

    return covenant_services.covenant_sweep_chunk(loan_ids=[loan_id])
