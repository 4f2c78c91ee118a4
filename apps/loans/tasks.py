"""Celery tasks of the loan book: ids in, one service call (CONVENTIONS §4)."""

import datetime as dt

from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.LOANS_DPD_RECOMPUTE_SWEEP, acks_late=True,
             reject_on_worker_lost=True)
def dpd_recompute_sweep_task(as_of: str | None = None) -> int:
    """Beat, nightly: send one chunk task per range of open loans. Idempotent (chunks
    recompute from scratch), so acks_late may deliver it twice."""
    from apps.loans.dpd_sweep import dpd_recompute_sweep

    return dpd_recompute_sweep(as_of=dt.date.fromisoformat(as_of) if as_of else None)


@shared_task(name=TaskName.LOANS_DPD_RECOMPUTE_CHUNK, acks_late=True,
             reject_on_worker_lost=True)
def dpd_recompute_chunk_task(first_id: int, last_id: int, as_of: str) -> dict:
    """Recompute days past due for the open loans in one id range, from scratch; a second
    delivery writes nothing new."""
    from apps.loans.dpd_sweep import dpd_recompute_chunk

    result = dpd_recompute_chunk(first_id=first_id, last_id=last_id,
                                 as_of=dt.date.fromisoformat(as_of))
    return {"loans": result.loans, "changed": result.loans_changed,
            "points_written": result.points_written}
