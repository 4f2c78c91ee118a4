"""The daily sweep sent by name through Redis runs on a real worker and opens the case."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from apps.core.task_names import TaskName
from apps.oversight.exemption_models import ExemptionCase
from config.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_sweep_task_runs_on_a_real_worker(transactional_db):
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.oversight.tests.exemption_factories import make_loan

    with translation.override("en"):
        world = World()
    loan = make_loan(world, dpd=150)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10):
        app.send_task(TaskName.OVERSIGHT_EXEMPTION_CASES_SWEEP)
        deadline = time.monotonic() + 60  # no result backend: wait on the row it writes
        while (not ExemptionCase.objects.filter(loan=loan).exists()
               and time.monotonic() < deadline):
            time.sleep(0.2)
    case = ExemptionCase.objects.get(loan=loan)
    assert case.opened_by is None and case.people.exists()
