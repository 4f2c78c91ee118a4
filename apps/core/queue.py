"""Sending work to a later app's Celery task by name, durably, once the sender commits.

An earlier app may not import a later one (CONVENTIONS §1), so it names the task
(`TaskName`) instead. The task is written to the transactional outbox in the caller's
transaction (`apps.core.outbox`): a worker never reads rows that are not there yet, a
rolled-back change sends nothing, and a committed change always gets its work, even when the
broker is down at commit (the relay sends it when the broker is back).
"""

from __future__ import annotations

from celery import current_app  # noqa: F401 - the app outbox sends with; tests patch it here

from apps.core.task_names import TaskName


def enqueue_on_commit(name: TaskName, **kwargs) -> None:
    """Ask for task `name(**kwargs)` once the current transaction commits.

    Must run inside `transaction.atomic()` (raises `OutsideTransaction` otherwise); `kwargs`
    must be JSON. Delivery is at least once: the receiving task must be idempotent.
    """
    from apps.core.outbox import outbox_add

    outbox_add(task_name=str(name), kwargs=kwargs)
