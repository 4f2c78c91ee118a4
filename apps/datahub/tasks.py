from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.DATAHUB_PULL_RUN, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def pull_run(pull_id: int) -> str:
    """Run one requested pull. Idempotent (a finished or held pull is left alone) and safe to
    redeliver after a worker is killed: its claim runs out and the next delivery takes over."""
    from apps.datahub.services import pull_run as run

    return run(pull_id=pull_id)


@shared_task(name=TaskName.DATAHUB_REFRESH_PULL_RUN, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def refresh_pull_run(pull_id: int) -> str:
    """The same work for a scheduled refresh, on the bulk queue (nobody waits on it)."""
    from apps.datahub.services import pull_run as run

    return run(pull_id=pull_id)


@shared_task(name=TaskName.DATAHUB_REFRESH_SWEEP, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def refresh_sweep() -> dict:
    """Daily: open the scheduled refresh pulls of loans on the book (idempotent: what was
    answered within its interval or is in flight is skipped)."""
    from apps.datahub.refresh import refresh_due

    return refresh_due()
