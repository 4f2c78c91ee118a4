"""Scoring through a real worker on Redis: the same task delivered twice writes one result."""

import time

import pytest

from apps.audit.models import AuditEvent
from apps.core.models import TaskProbe
from apps.core.task_names import TaskName
from apps.scoring.models import ScoreResult
from config.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _drain(timeout: float = 60.0) -> None:
    """The solo worker runs tasks in order: once a ping sent last has run, so have the others."""
    probe = TaskProbe.objects.create()
    app.send_task(str(TaskName.CORE_PING), kwargs={"probe_id": str(probe.pk)})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe.refresh_from_db()
        if probe.executed_at is not None:
            return
        time.sleep(0.1)
    pytest.fail("the worker did not drain its queue in time")


def test_the_same_score_task_delivered_twice_writes_one_result(live_worker, world):
    application = world.in_state("investigating")
    for _ in range(2):
        app.send_task(str(TaskName.APPLICATION_SCORE), kwargs={"application_id": application.pk})
    _drain()
    results = ScoreResult.objects.filter(application_id=application.pk)
    assert results.count() == 1
    assert AuditEvent.objects.filter(action="score.computed",
                                     subject_id=str(application.pk)).count() == 1
    assert results.get().model_version.state == "champion"
