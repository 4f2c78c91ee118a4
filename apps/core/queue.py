"""Sending work to a later app's Celery task by name, once the sender's transaction commits.

An earlier app may not import a later one (CONVENTIONS §1), so it names the task
(`TaskName`) instead. Sending after commit means a worker never reads rows that are not there
yet, and a rolled-back change sends nothing.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction

from apps.core.task_names import TaskName


def enqueue_on_commit(name: TaskName, **kwargs) -> None:
    transaction.on_commit(lambda: current_app.send_task(str(name), kwargs=kwargs))
