from celery import shared_task

from apps.core.task_names import TaskName


def _run(task, pull_id: int) -> str:
    """Run the pull; when another worker's claim holds it (a redelivery after that worker was
    killed arrives before its claim runs out), look again once the claim has expired."""
    from apps.datahub.services import claim_wait, pull_run

    state = pull_run(pull_id=pull_id)
    wait = claim_wait(pull_id=pull_id)
    if wait is not None:
        raise task.retry(countdown=wait, max_retries=5)
    return state


@shared_task(name=TaskName.DATAHUB_PULL_RUN, bind=True, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def pull_run(self, pull_id: int) -> str:
    """Run one requested pull. Idempotent (a finished or held pull is left alone) and safe to
    redeliver after a worker is killed: its claim runs out and the next delivery takes over."""
    return _run(self, pull_id)


@shared_task(name=TaskName.DATAHUB_REFRESH_PULL_RUN, bind=True, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def refresh_pull_run(self, pull_id: int) -> str:
    """The same work for a scheduled refresh, on the bulk queue (nobody waits on it)."""
    return _run(self, pull_id)


@shared_task(name=TaskName.DATAHUB_REFRESH_SWEEP, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def refresh_sweep() -> dict:
    """Daily: open the scheduled refresh pulls of loans on the book (idempotent: what was
    answered within its interval or is in flight is skipped)."""
    from apps.datahub.refresh import refresh_due

    return refresh_due()


@shared_task(name=TaskName.DATAHUB_CACHE_HITS_AUDIT, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def cache_hits_audit() -> int:
    """Every minute: the audit events of the cache answers given since (apps/datahub/cache.py;
    idempotent: each row is audited once, rows another sweep holds are skipped)."""
    from apps.datahub.cache import cache_hits_audit as audit

    return audit()


@shared_task(name=TaskName.DATAHUB_PULL_SWEEP, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def pull_sweep() -> dict:
    """Every two minutes: send again the pulls whose worker died mid-query or whose message
    was lost (apps/datahub/sweep.py; safe to repeat: a pull runs once under its row lock)."""
    from apps.datahub.sweep import pull_sweep as sweep

    return sweep()
