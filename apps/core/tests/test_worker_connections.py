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


def test_the_scoring_task_retries_on_a_failed_connection_and_a_plain_task_does_not():
    from apps.core.tasks import ping
    from apps.scoring.tasks import application_score
    from config.celery import _retries_database_errors

    assert _retries_database_errors(application_score)
    assert not _retries_database_errors(ping)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_task_that_retries_on_a_failed_connection_skips_the_health_check(monkeypatch):
    from celery.signals import task_postrun, task_prerun
    from django.db import OperationalError

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)  # as deployed
    monkeypatch.setattr(connection, "health_check_enabled", True)
    checks = []
    real_is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or real_is_usable())
    retrying = SimpleNamespace(request=SimpleNamespace(is_eager=False),
                               autoretry_for=(OperationalError,))
    plain = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    connection.close()
    connection.ensure_connection()
    for task, expected in ((plain, 1), (retrying, 0)):
        checks.clear()
        _close_old_connections(signal=task_postrun, task=task)  # the previous task's end
        _close_old_connections(signal=task_prerun, task=task)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2")
        assert len(checks) == expected, task
    # The server drops the retrying task's connection: its first query fails (the task is
    # retried) and the connection is closed after it, so the retry opens a new one.
    connection.connection.close()
    _close_old_connections(signal=task_prerun, task=retrying)
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    _close_old_connections(signal=task_postrun, task=retrying)
    assert connection.connection is None
