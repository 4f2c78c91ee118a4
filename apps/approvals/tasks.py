"""Celery tasks of approvals: ids in, one service call (CONVENTIONS §4)."""

from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.APPROVALS_STEP_NOTIFY, acks_late=True, reject_on_worker_lost=True)
def approval_step_notify_task(step_id: int) -> bool:
    """Mail the signers of a step that opened (idempotent: stamped once)."""
    from apps.approvals.services import approval_step_notify

    return approval_step_notify(step_id=step_id)


@shared_task(name=TaskName.APPROVALS_DEADLINES_SWEEP, acks_late=True,
             reject_on_worker_lost=True)
def approval_deadlines_sweep_task() -> dict:
    """Reminders and escalations of waiting steps (idempotent: each notice stamped once)."""
    from apps.approvals.services import approval_deadlines_sweep

    return approval_deadlines_sweep()
