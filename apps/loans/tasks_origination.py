"""Celery tasks of the origination half of the loan book: ids in, one service call.

Not named `tasks.py` (the servicing side owns that module): `LoansConfig.ready()` imports
this module so the worker registers these tasks.
"""

from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.LOANS_ACTIVATE_SWEEP, acks_late=True, reject_on_worker_lost=True)
def loans_activate_due_task() -> int:
    """Daily: pending loans whose value date has come become active (idempotent)."""
    from apps.loans.services.lifecycle import loans_activate_due

    return loans_activate_due()
