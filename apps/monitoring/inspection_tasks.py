"""Celery tasks for inspections: ids in, one service call (CONVENTIONS §4). All idempotent:
generation has unique schedule keys, overdue marking claims each row once."""

import datetime as dt

from celery import shared_task

from apps.core.task_names import TaskName


def _day(value: str | None):
    return dt.date.fromisoformat(value) if value else None


@shared_task(name=TaskName.MONITORING_INSPECTION_SWEEP, acks_late=True,
             reject_on_worker_lost=True)
def inspection_sweep_task() -> dict:
    """Daily: enqueue schedule generation and overdue marking in chunks."""
    from apps.monitoring import inspection_services

    return inspection_services.inspection_sweep()


@shared_task(name=TaskName.MONITORING_INSPECTION_SCHEDULE, acks_late=True,
             reject_on_worker_lost=True)
def inspection_schedule_generate_task(loan_id: int) -> int:
    """One loan's schedule (on disbursement or activation)."""
    from apps.monitoring import inspection_services

    return len(inspection_services.inspection_schedule_generate(loan_id=loan_id))


@shared_task(name=TaskName.MONITORING_INSPECTION_SCHEDULE_CHUNK, acks_late=True,
             reject_on_worker_lost=True)
def inspection_schedule_chunk_task(loan_ids: list[int], today: str | None = None) -> int:
    """A chunk of loans' schedules (from the daily sweep)."""
    from apps.monitoring import inspection_services

    return inspection_services.inspection_schedule_chunk(loan_ids=loan_ids, today=_day(today))


@shared_task(name=TaskName.MONITORING_INSPECTION_OVERDUE_CHUNK, acks_late=True,
             reject_on_worker_lost=True)
def inspections_overdue_mark_task(inspection_ids: list[int], today: str | None = None) -> int:
    """Mark a chunk of inspections overdue and escalate each once."""
    from apps.monitoring import inspection_services

    return inspection_services.inspections_overdue_mark(inspection_ids=inspection_ids,
                                                        today=_day(today))
