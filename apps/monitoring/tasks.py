"""Celery tasks of the classification run: ids in, one service call (CONVENTIONS §4)."""

from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.MONITORING_CLASSIFICATION_SWEEP)
def classification_run_start_task() -> int:
    """Beat, monthly: record the run for last month's end and enqueue its chunks."""
    from apps.monitoring.services.run import classification_run_start

    return classification_run_start().pk


@shared_task(name=TaskName.MONITORING_CLASSIFY_CHUNK, acks_late=True,
             reject_on_worker_lost=True)
def classification_chunk_run_task(chunk_id: int) -> dict:
    """Classify one chunk (idempotent: a done chunk is a no-op, so late acks are safe)."""
    from apps.monitoring.services.run import classification_chunk_fail, classification_chunk_run

    try:
        return classification_chunk_run(chunk_id=chunk_id)
    except Exception as exc:  # bad data or a bug: visible on the run, not silently retried
        classification_chunk_fail(chunk_id=chunk_id, error=repr(exc))
        raise


@shared_task(name=TaskName.MONITORING_CHUNKS_RECONCILE)
def classification_chunks_reconcile_task() -> int:
    """Beat: re-send chunks stuck in pending (a lost message)."""
    from apps.monitoring.services.run import classification_chunks_reconcile

    return classification_chunks_reconcile()


@shared_task(name=TaskName.MONITORING_ACTIONS_OVERDUE)
def actions_overdue_sweep_task() -> int:
    """Beat, daily: open actions past their deadline become overdue."""
    from apps.monitoring.services.actions import actions_overdue_sweep

    return actions_overdue_sweep()


@shared_task(name=TaskName.MONITORING_RESTRUCTURINGS_RECORD, acks_late=True,
             reject_on_worker_lost=True)
def loan_restructurings_record_task(loan_id: int) -> list[str]:
    """After a restructuring commits: record its day for the observation period (idempotent)."""
    from apps.monitoring.services.classification import loan_restructurings_record

    return [str(day) for day in loan_restructurings_record(loan_id=loan_id)]
