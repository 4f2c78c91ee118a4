"""Document checks in real workers on Redis and PostgreSQL (issue 5 acceptance): checks run
and store results; a task delivered twice stores one result; a worker killed mid-check leaves
the document recoverable, and the sweeper gets it checked."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.task_names import TaskName
from apps.documents import checking
from apps.documents.models import Document, DocumentCheck
from apps.documents.states import CheckStatus as C
from apps.documents.states import DocumentState as S
from apps.documents.tests.helpers import sited_draft, upload_photo, upload_statement
from config.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def docs(transactional_db):
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.documents.seed import seed_documents

    with translation.override("en"):
        world = World()
    seed_documents(with_requirements=True)
    return world


def wait_for(predicate, *, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not reached within {timeout:.0f} s")


def decided(document_id):
    return Document.objects.filter(pk=document_id).exclude(
        state__in=[S.UPLOADED, S.CHECKING]).first()


@contextmanager
def worker_process(module: str, *extra: str):
    """`celery -A <module> worker` on the test database, Redis and media folder."""
    name = connection.settings_dict["NAME"]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test",
               DATABASE_URL=urlparse(os.environ["DATABASE_URL"])._replace(
                   path=f"/{name}").geturl(),
               TEST_MEDIA_ROOT=str(settings.MEDIA_ROOT), OMP_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    hostname = f"docs-{uuid.uuid4().hex[:8]}@localhost"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", module, "worker", "--loglevel", "WARNING",
         "--hostname", hostname, "--without-gossip", "--without-mingle", "--without-heartbeat",
         *extra], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if proc.poll() is not None:
                pytest.fail(f"worker exited with {proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                pytest.fail("worker did not answer a ping within 30 s")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def test_checks_run_in_a_worker_and_store_results(docs, live_worker):
    app_ = sited_draft(docs)
    statement = upload_statement(docs, app_)  # sends the task on commit
    photo = upload_photo(docs, app_, 41)
    for document in (statement, photo):
        done = wait_for(lambda d=document: decided(d.pk), what=f"document {document.pk}")
        assert done.state == S.PASSED, done.attention_reason
    checks = {c.kind: c for c in DocumentCheck.objects.filter(document=statement)}
    assert set(checks) == {"bank_statement", "expiry"}
    assert checks["bank_statement"].findings["transactions"] == 124
    assert all(c.finished_at and c.checker_version for c in checks.values())
    assert DocumentCheck.objects.get(document=photo).findings["phash"]


def test_a_task_delivered_twice_stores_one_result(docs):
    app.control.purge()
    statement = upload_statement(docs, sited_draft(docs))
    for _ in range(3):  # and the upload's own message: four deliveries, two pool children
        app.send_task(TaskName.DOCUMENT_CHECK, kwargs={"document_id": statement.pk})
    with worker_process("config", "--pool", "prefork", "--concurrency", "2"):
        wait_for(lambda: decided(statement.pk), what="the statement's checks")
        time.sleep(1.0)  # let the remaining deliveries run (they must change nothing)
    checks = DocumentCheck.objects.filter(document=statement)
    assert checks.count() == 2 and {c.attempts for c in checks} == {1}
    recorded = AuditEvent.objects.filter(action="document.check_recorded",
                                         subject_id=str(statement.pk))
    assert recorded.count() == 2
    assert AuditEvent.objects.filter(action="document.checked",
                                     subject_id=str(statement.pk)).count() == 1


def test_killing_the_worker_mid_check_leaves_the_document_recoverable(docs):
    app.control.purge()
    statement = upload_statement(docs, sited_draft(docs))
    path = Path(settings.MEDIA_ROOT) / statement.storage_name
    with worker_process("apps.documents.tests.integration.slow_worker", "--pool", "prefork",
                        "--concurrency", "1") as proc:
        wait_for(lambda: DocumentCheck.objects.filter(document=statement, kind="bank_statement",
                                                      status=C.RUNNING).exists(),
                 what="the slow check to start")
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its pool child, no goodbye
        proc.wait(timeout=10)

    statement = Document.objects.get(pk=statement.pk)
    assert statement.state == S.CHECKING and path.exists()
    assert DocumentCheck.objects.get(document=statement, kind="bank_statement").status == \
        C.RUNNING

    # Later (past the stuck limit) the sweeper re-queues it; a healthy worker finishes it.
    counts = checking.document_check_sweep(now=timezone.now() + dt.timedelta(hours=1))
    assert counts["requeued"] >= 1
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10):
        done = wait_for(lambda: decided(statement.pk), what="the re-queued check")
    assert done.state == S.PASSED
    check = DocumentCheck.objects.get(document=statement, kind="bank_statement")
    assert check.attempts == 2 and check.status == C.PASSED
