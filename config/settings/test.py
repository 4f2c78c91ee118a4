"""The test suite: the same settings as production's shape, with fast hashing and a test-only GUC.

Services come from DATABASE_URL / REDIS_URL (`.ci/run` points them at the machine's PostgreSQL
and Redis); without them unit tests run on SQLite and integration tests say how to enable them.
Celery is never eager here: integration tests start a real worker.
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _redis_database_per_test_process() -> None:
    """`make test` runs the suite in parallel processes (pytest-xdist sets PYTEST_XDIST_WORKER
    before settings load). Each gets its own test database (pytest-django adds the suffix) and,
    here, its own Redis database counting down from the one given, so queues, results and
    flushes of one process never reach the other's workers. The environment is rewritten, not
    only settings, because worker subprocesses started by tests inherit it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return
    # A Celery worker a test starts inherits both the rewritten URL and PYTEST_XDIST_WORKER:
    # it must not count down a second time.
    if os.environ.get("CREDENCE_TEST_REDIS_FOR") == worker:
        return
    os.environ["CREDENCE_TEST_REDIS_FOR"] = worker
    offset = int(worker[2:])
    for key in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(key, "")
        if not url.startswith("redis://"):
            continue
        parts = urlsplit(url)
        database = int(parts.path.strip("/") or 0)
        os.environ[key] = urlunsplit(parts._replace(path=f"/{(database - offset) % 16}"))


_redis_database_per_test_process()

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import DATABASES, REDIS_URL, env  # noqa: E402

# Small purpose-built models for testing shared mechanisms (as django-fsm-2's own tests do).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405

SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in production
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_FAILURE_LIMIT = 3

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django flushes test databases with TRUNCATE, which the audit trigger refuses unless this
    # setting is on; only the test connection sets it. A test database need not survive a
    # crash, so its commits do not wait for the WAL to reach the disk (thousands of commits
    # in the transactional tests).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c credence.audit_truncate_allowed=on -c synchronous_commit=off"
    )
    # Two runs on one server (two developers, CI beside a session) need their own databases.
    if env("TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}

# Without Redis, messages go to kombu's in-memory transport: unit tests then never feed a local
# `make run` worker through the shared filesystem queue. Integration tests use the real Redis.
if not REDIS_URL:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
# A worker subprocess started by an integration test is given the test's own folder
# (TEST_MEDIA_ROOT), so it reads the files the test uploaded.
MEDIA_ROOT = Path(env("TEST_MEDIA_ROOT", default="")
                  or tempfile.mkdtemp(prefix="credence-test-media-"))
# WhiteNoise warns on every request when the collected-static folder is absent; tests serve
# static files from the finders instead, so an empty folder is enough.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

STORAGES = {
    "default": DEFAULT_STORAGE,  # noqa: F405 - the disk, or S3 when S3_BUCKET is set
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The outbox's fast path pauses after a refused send (outbox.py); tests that break the broker
# on purpose would otherwise leave the pause to the tests after them. test_outbox sets it.
OUTBOX_FAST_PATH_PAUSE_SECONDS = 0
