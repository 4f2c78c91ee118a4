"""The one Celery application: web and workers read the same Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("credence")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
