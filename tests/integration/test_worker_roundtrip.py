"""Web → Redis → real worker → database, and /readyz telling the truth about the worker.

Needs PostgreSQL and Redis (see conftest.py). Every test is transactional: the worker's own
connection must see rows the test committed, and the test must see what the worker wrote.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection, connections
from django.urls import reverse

from apps.core.models import TaskProbe
from apps.core.tasks import ping as ping_task
from apps.demo.seed import DEMO_PASSWORD, seed_demo
from config.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent.parent
ROUND_TRIP_TIMEOUT = 20.0


def _login_admin(client) -> None:
    seed_demo()
    # Through the real login form (django-axes included), as an admin would.
    response = client.post(reverse("accounts:login"),
                           {"username": "admin.north", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]


def _wait_executed(probe_id, timeout: float = ROUND_TRIP_TIMEOUT) -> TaskProbe:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = TaskProbe.objects.get(pk=probe_id)
        if probe.executed_at is not None:
            return probe
        time.sleep(0.1)
    pytest.fail(f"probe {probe_id} not executed by a worker within {timeout:.0f} s")


def _test_database_url() -> str:
    """DATABASE_URL pointing at pytest-django's test database, for a worker subprocess."""
    name = connection.settings_dict["NAME"]  # test_credence, or test_credence_gw0 under xdist
    return urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


@contextmanager
def worker_process(*extra_args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`celery -A config worker` as a real process on the test database and Redis."""
    hostname = f"itest-{uuid.uuid4().hex[:8]}@localhost"  # unique: ping only our worker
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test",
               DATABASE_URL=_test_database_url(), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
         "--hostname", hostname, "--without-gossip", "--without-mingle", "--without-heartbeat",
         *extra_args],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited with code {proc.returncode} before ready")
            if time.monotonic() > deadline:
                pytest.fail("celery worker did not answer a ping within 20 s")
        yield proc, hostname
    finally:
        # SIGTERM: warm shutdown, the worker stops its own pool children. Kill the group if stuck.
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_task_sent_from_a_web_request_is_executed_by_the_worker(live_worker, client):
    _login_admin(client)

    response = client.post(reverse("web:task-probe-create"))

    assert response.status_code == 201
    probe = _wait_executed(TaskProbe.objects.get().pk)
    # The solo pool runs in a thread of this process; there, request.hostname is the bare host.
    assert probe.worker_pid == os.getpid()
    assert probe.worker_hostname
    detail = client.get(reverse("web:task-probe-detail", args=[probe.pk]))
    assert b'data-executed="yes"' in detail.content


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_readiness_is_ok_while_a_worker_runs(live_worker, client, path):
    response = client.get(path)

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert {name: check["state"] for name, check in checks.items()} == {
        "database": "up", "broker": "up", "storage": "up", "worker": "up"}
    assert checks["database"]["detail"] == "postgresql"
    assert checks["broker"]["detail"] == "redis"
    # The first worker to answer ends the wait: nowhere near the ping's timeout.
    assert checks["worker"]["ms"] < response.json()["budget_ms"] * 0.6


def test_readiness_is_503_when_no_worker_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert report["ok"] is False
    assert report["checks"]["worker"]["state"] == "down"
    assert report["checks"]["worker"]["detail"] == "no worker answered"
    assert report["checks"]["database"]["ok"] and report["checks"]["broker"]["ok"]


def _waiting_backend_pid(probe_id, timeout: float = 10.0) -> int:
    """The PostgreSQL backend of the worker's UPDATE, blocked on our row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s",
                ['UPDATE "core_taskprobe"%'],
            )
            rows = cursor.fetchall()
            if rows:
                assert len(rows) == 1, rows
                return rows[0][0]
            time.sleep(0.05)
    pytest.fail("the worker never reached the probe's UPDATE")


def _active_pool_pid(hostname: str, task_id: str) -> int:
    active = app.control.inspect(destination=[hostname], timeout=2).active() or {}
    for task in active.get(hostname, []):
        if task["id"] == task_id:
            return task["worker_pid"]
    pytest.fail(f"task {task_id} is not active on {hostname}: {active}")


def test_task_is_redelivered_after_its_pool_child_is_killed():
    """acks_late + reject_on_worker_lost: a pool child killed mid-task does not lose the task.

    The test holds a row lock on the probe, so the task is provably running (blocked in its
    UPDATE) when its pool child is SIGKILLed; the re-run in a fresh child then stamps the probe.
    """
    assert ping_task.acks_late and ping_task.reject_on_worker_lost
    probe = TaskProbe.objects.create()
    app.control.purge()
    with worker_process("--pool", "prefork", "--concurrency", "1") as (_proc, hostname):
        locker = connections.create_connection("default")
        try:
            locker.set_autocommit(False)
            with locker.cursor() as cursor:
                cursor.execute("SELECT id FROM core_taskprobe WHERE id = %s FOR UPDATE",
                               [probe.pk])
            result = ping_task.apply_async(args=[str(probe.pk)])
            orphan_backend = _waiting_backend_pid(probe.pk)
            killed_pid = _active_pool_pid(hostname, result.id)

            os.kill(killed_pid, signal.SIGKILL)
            # A backend blocked on a lock does not notice its client died; once we release the
            # lock it would finish the dead child's UPDATE and commit it. End it first.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [orphan_backend])
            locker.rollback()
        finally:
            locker.close()

        probe = _wait_executed(probe.pk)

    assert probe.worker_pid not in (None, killed_pid)
    assert probe.worker_hostname == hostname
