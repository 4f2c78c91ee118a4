"""Test-wide fixtures and the rule that services are real.

Integration tests need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). On a developer machine
without them they skip with a message saying how to enable them. In CI (CI=true, or
CREDENCE_REQUIRE_SERVICES=1) a missing or unreachable service stops the whole run with an error:
CI must never go green on skipped integration tests.
"""

import os
import socket
from urllib.parse import urlparse

import pytest

# The S3-compatible server on the loopback for object-storage tests (s3_server, s3_storage).
pytest_plugins = ["apps.core.tests.s3_server"]

SERVICES_HELP = (
    "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/credence and "
    "REDIS_URL=redis://127.0.0.1:6379/15 (see README, 'Tests')"
)


def _services_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(
        "CREDENCE_REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port} unreachable ({exc})"


def services_status() -> tuple[bool, str]:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        return False, "DATABASE_URL is not a PostgreSQL URL"
    if not redis_url.startswith("redis://"):
        return False, "REDIS_URL is not set"
    for url, port in ((database_url, 5432), (redis_url, 6379)):
        ok, detail = _reachable(url, port)
        if not ok:
            return False, detail
    return True, "PostgreSQL and Redis reachable"


CHROMIUM = "/usr/bin/chromium"


def pytest_configure(config):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from tests import db_flush, db_template

    db_template.install()  # PostgreSQL test databases cloned from one migrated template
    db_flush.install()  # and emptied by deleting the rows a test left, not truncating all
    if _services_required():
        ok, detail = services_status()
        if not ok:
            raise pytest.UsageError(f"CI needs real services and they are not there: {detail}")
        if not os.path.exists(CHROMIUM):
            raise pytest.UsageError(f"CI needs {CHROMIUM} for the browser tests "
                                    "(apt-get install chromium)")


@pytest.fixture(autouse=True)
def _default_language():
    """Django leaves the last request's language active; a test must not inherit it."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_collection_modifyitems(config, items):
    ok, detail = services_status()
    if ok:
        return
    skip = pytest.mark.skip(reason=f"integration test needs services: {detail}; {SERVICES_HELP}")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgresql(db):
    """For tests whose subject only exists on PostgreSQL (triggers, advisory locks)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL; {SERVICES_HELP}")
    return connection


@pytest.fixture
def live_worker(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming from the test Redis.

    Needs `transactional_db`: the worker's own connection must see the test's committed rows.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    if not app.conf.broker_url.startswith("redis://"):
        pytest.skip(f"a live worker needs Redis; {SERVICES_HELP}")
    app.control.purge()  # nothing left over from another run may execute against this one
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10) as worker:
        yield worker


@pytest.fixture
def world(db):
    """Demo staff, the seed products and a factory of eligible firms (applications tests)."""
    from django.utils import translation

    from apps.applications.tests.factories import World

    with translation.override("en"):
        return World()


@pytest.fixture
def api_as(world):
    """An API client authenticated as one of the demo staff: api_as("am.north")."""
    from rest_framework.test import APIClient

    def client(username: str) -> APIClient:
        api = APIClient()
        api.force_authenticate(world.user(username))
        return api
    return client
