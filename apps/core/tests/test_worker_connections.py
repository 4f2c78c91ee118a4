"""Workers keep their database connection between tasks (issue #20: a new PostgreSQL backend
per task was about half of scoring one application through the worker)."""

from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery import _close_old_connections, app


def test_celerys_fixup_reuses_the_connection_across_tasks():
    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max and fixup.db_reuse_max >= 100


@pytest.mark.django_db
def test_an_eager_task_leaves_the_callers_connection_and_transaction_alone():
    connection.ensure_connection()
    before = connection.connection
    eager = SimpleNamespace(request=SimpleNamespace(is_eager=True))
    _close_old_connections(task=eager)
    assert connection.connection is before and connection.in_atomic_block


# A real server connection: closing SQLite's in-memory test connection would drop the test
# database under every later test on the worker.
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_between_tasks_a_connection_that_failed_is_closed_and_a_healthy_one_kept(monkeypatch):
    worker_task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)  # as deployed
    connection.close()
    connection.ensure_connection()
    healthy = connection.connection
    _close_old_connections(task=worker_task)
    assert connection.connection is healthy  # kept for the next task
    connection.errors_occurred = True
    connection.connection.close()  # the server went away during the task
    _close_old_connections(task=worker_task)
    assert connection.connection is None  # the next task opens a new one
