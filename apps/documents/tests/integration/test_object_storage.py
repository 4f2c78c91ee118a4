"""Documents and exports on a real S3-compatible server (issue 23 acceptance).

Upload through the API into a bucket; checks in a worker process whose MEDIA_ROOT does not
exist (it can only reach the bucket); downloads with the same permission checks and audit,
streamed or redirected to a signed URL; an auditor's export stored in the bucket; and the
upload's "never delete a file whose row may have committed" rule on object storage.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.documents import orphans, services
from apps.documents.models import Document
from apps.documents.states import DocumentState as S
from apps.documents.tests.conftest import FIXTURES
from apps.documents.tests.helpers import sited_draft, upload_statement
from config.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[4]
STATEMENT = (FIXTURES / "statement_cn_debit_credit.csv").read_bytes()


@pytest.fixture
def docs(transactional_db):
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.documents.seed import seed_documents

    with translation.override("en"):
        world = World()
    seed_documents(with_requirements=True)
    return world


def wait_for(predicate, *, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not reached within {timeout:.0f} s")


def local_files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


@contextmanager
def diskless_worker(bucket):
    """`celery -A config worker` on the test database and Redis whose MEDIA_ROOT is a folder
    that does not exist: it can reach the documents only through the bucket."""
    name = connection.settings_dict["NAME"]
    nowhere = f"/nonexistent/credence-no-media-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test",
               DATABASE_URL=urlparse(os.environ["DATABASE_URL"])._replace(
                   path=f"/{name}").geturl(),
               TEST_MEDIA_ROOT=nowhere, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               **bucket.env)
    hostname = f"s3docs-{uuid.uuid4().hex[:8]}@localhost"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
         "--hostname", hostname, "--pool", "solo", "--without-gossip", "--without-mingle",
         "--without-heartbeat"], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if proc.poll() is not None:
                pytest.fail(f"worker exited with {proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                pytest.fail("worker did not answer a ping within 60 s")
        yield nowhere
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _upload_via_api(docs, application):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = APIClient()
    api.force_authenticate(docs.user("am.north"))
    response = api.post(f"/api/v1/applications/{application.pk}/documents/", {
        "document_type": "bank_statement",
        "file": SimpleUploadedFile("流水.csv", STATEMENT, content_type="text/csv")},
        format="multipart")
    assert response.status_code == 201, response.content
    return Document.objects.get(pk=response.json()["id"])


def test_upload_check_in_a_diskless_worker_and_download(docs, s3_storage):
    app.control.purge()
    before = local_files()
    document = _upload_via_api(docs, sited_draft(docs))

    # Stored in the bucket under the generated name, nothing on the web host's disk.
    assert document.storage_name.startswith("documents/")
    assert s3_storage.stored_keys() == {document.storage_name}
    assert s3_storage.read(document.storage_name) == STATEMENT
    assert local_files() - before == set()

    with diskless_worker(s3_storage) as nowhere:
        done = wait_for(lambda: Document.objects.exclude(state__in=[S.UPLOADED, S.CHECKING])
                        .filter(pk=document.pk).first(), what="the checks in the worker")
    assert not Path(nowhere).exists()
    assert done.state == S.PASSED, done.attention_reason
    statement_check = done.checks.get(kind="bank_statement")
    assert statement_check.findings["transactions"] == 124  # it read the real bytes

    # The owner's branch downloads it (streamed from the bucket), once audited.
    owner = Client()
    owner.force_login(docs.user("am.north"))
    response = owner.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == STATEMENT
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    downloads = AuditEvent.objects.filter(action="document.downloaded",
                                          subject_id=str(document.pk))
    assert downloads.count() == 1 and downloads.get().payload["via"] == "stream"

    # Another branch's account manager is refused as before, and nothing is recorded.
    other = Client()
    other.force_login(docs.user("am.south"))
    assert other.get(reverse("documents:download", args=[document.pk])).status_code == 404
    assert downloads.count() == 1


def test_download_redirects_to_a_short_lived_signed_url(docs, s3_storage, settings):
    settings.STORAGE_SIGNED_URL_SECONDS = 60
    document = upload_statement(docs, sited_draft(docs))
    owner = Client()
    owner.force_login(docs.user("am.north"))
    response = owner.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    query = parse_qs(urlparse(url).query)
    assert url.startswith(s3_storage.endpoint)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    assert "attachment" in query["response-content-disposition"][0]
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 - the loopback store
        assert fetched.read() == STATEMENT
    event = AuditEvent.objects.get(action="document.downloaded", subject_id=str(document.pk))
    assert event.payload["via"] == "signed_url"

    other = Client()
    other.force_login(docs.user("am.south"))
    refused = other.get(reverse("documents:download", args=[document.pk]))
    assert refused.status_code == 404 and "Location" not in refused
    assert AuditEvent.objects.filter(action="document.downloaded").count() == 1


def test_a_failure_before_commit_leaves_nothing_in_the_bucket(docs, s3_storage, monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("audit sink down")

    monkeypatch.setattr(services, "audit_record", refuse)
    with pytest.raises(RuntimeError):
        upload_statement(docs, sited_draft(docs))
    assert Document.objects.count() == 0 and s3_storage.stored_keys() == set()


def test_a_failure_after_commit_keeps_the_object(docs, s3_storage, monkeypatch):
    from django.db import transaction

    from apps.documents import checking

    prepare = checking.document_checks_prepare

    def prepare_then_fail_after_commit(*, document):
        kinds = prepare(document=document)
        transaction.on_commit(lambda: (_ for _ in ()).throw(ConnectionError("after commit")))
        return kinds

    monkeypatch.setattr(services, "document_checks_prepare", prepare_then_fail_after_commit)
    with pytest.raises(ConnectionError):
        upload_statement(docs, sited_draft(docs))
    document = Document.objects.get()
    assert s3_storage.stored_keys() == {document.storage_name}


def test_the_orphan_sweep_on_the_bucket(docs, s3_storage):
    kept = upload_statement(docs, sited_draft(docs))
    orphan = f"{kept.storage_name.rsplit('/', 1)[0]}/0rphan.csv"
    s3_storage.client.put_object(Bucket=s3_storage.name, Key=orphan, Body=b"a,b\n")

    young = orphans.document_orphans_sweep()  # just written: inside the grace period
    assert young["removed"] == 0 and s3_storage.stored_keys() == {kept.storage_name, orphan}

    later = time.time() + 2 * 86400  # past the grace: the row-less object goes, the row's stays
    counts = orphans.document_orphans_sweep(now=later)
    assert counts["removed"] == 1 and counts["checked"] == 2
    assert s3_storage.stored_keys() == {kept.storage_name}


def test_an_export_is_stored_in_the_bucket_and_downloaded_by_an_auditor(docs, s3_storage):
    from apps.oversight import services as oversight
    from apps.oversight.states import ExportJobState, ExportKind

    before = local_files()
    auditor = docs.user("auditor.north")
    job = oversight.export_job_request(kind=ExportKind.EVENTS_XLSX, actor=auditor, filters={})
    job = oversight.export_job_run(job_id=job.pk)
    assert job.state == ExportJobState.DONE, job.error
    assert job.file_name == f"exports/{job.pk}.xlsx"
    assert job.file_name in s3_storage.stored_keys()
    assert local_files() - before == set()

    client = Client()
    client.force_login(auditor)
    response = client.get(reverse("oversight:job-download", args=[job.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:2] == b"PK" and body == s3_storage.read(job.file_name)
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1

    manager = Client()
    manager.force_login(docs.user("am.north"))
    assert manager.get(reverse("oversight:job-download", args=[job.pk])).status_code in (403, 404)
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1
