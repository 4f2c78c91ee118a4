"""The one Celery application: web and workers read the same Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("credence")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    """Between tasks, what Django does between requests: a connection that failed, outlived
    CONN_MAX_AGE or fails its health check is closed, a healthy one is kept for the next task
    (settings CELERY_DB_REUSE_MAX keeps Celery's fixup from closing every one)."""
    if getattr(kwargs.get("task") and kwargs["task"].request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
