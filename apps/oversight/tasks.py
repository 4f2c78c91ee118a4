from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.OVERSIGHT_EXPORT_JOB_RUN, acks_late=True, reject_on_worker_lost=True)
def export_job_run_task(job_id: str) -> str:
    """Produce one export file. acks_late: if the worker dies mid-export the message comes
    back and the service marks the job failed (never produced twice, never stuck)."""
    from apps.oversight import services

    return services.export_job_run(job_id=job_id).state


@shared_task(name=TaskName.OVERSIGHT_EXPORT_JOBS_SWEEP)
def export_jobs_sweep_task() -> int:
    """Beat: re-send export jobs queued too long (brokers lose messages; the run is
    idempotent, so a duplicate send is harmless)."""
    from apps.oversight import services

    return services.export_jobs_sweep()


# Celery autodiscovery imports `tasks` only: the exemption sweep lives in its own module.
from apps.oversight.exemption_tasks import exemption_cases_sweep_task  # noqa: E402, F401
