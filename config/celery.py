"""The one Celery application: web and workers read the same Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("credence")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _retries_database_errors(task) -> bool:
    """Whether the task retries itself when the database connection fails (autoretry_for
    names OperationalError): for it a dead connection costs a retry, not a lost task."""
    from django.db import OperationalError

    return any(isinstance(kind, type) and issubclass(OperationalError, kind)
               for kind in getattr(task, "autoretry_for", None) or ())


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(signal=None, **kwargs) -> None:
    """Between tasks, what Django does between requests: a connection that failed, outlived
    CONN_MAX_AGE or fails its health check is closed, a healthy one is kept for the next task
    (settings CELERY_DB_REUSE_MAX keeps Celery's fixup from closing every one).

    The health check (CONN_HEALTH_CHECKS: a `SELECT 1` before the task's first query) is
    skipped for a task that retries on OperationalError, such as scoring one application: a
    connection the server dropped fails its first query instead, the task is retried, and the
    failed connection is closed after it (`errors_occurred`), so the retry opens a new one.
    That round trip was one of every fifteen a score costs (bench_scoring_worker)."""
    task = kwargs.get("task")
    if getattr(task and task.request, "is_eager", False):
        return
    from django.db import close_old_connections, connections

    close_old_connections()
    if signal is task_prerun and _retries_database_errors(task):
        for conn in connections.all(initialized_only=True):
            if conn.connection is not None:
                conn.health_check_done = True
