"""Writes of the web shell's own pages (the system status page's task probe)."""

from django.db import transaction

from apps.core.models import TaskProbe
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName


@transaction.atomic
def task_probe_send(*, actor) -> TaskProbe:
    """A probe row and the ping task that stamps it, sent on commit: a worker must never look
    for a probe row that is not there yet. The caller checks the actor is an administrator."""
    probe = TaskProbe.objects.create(requested_by=actor)
    enqueue_on_commit(TaskName.CORE_PING, probe_id=str(probe.pk))
    return probe
