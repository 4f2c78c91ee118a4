"""Uploaded evidence is never lost (issue 16): with the broker down at commit the upload
answers 201, keeps its file and gets checked once the broker is back; a failure after the
commit never deletes the stored file; an Idempotency-Key replays the first upload instead of
storing a second copy; the orphan sweep removes only row-less files past the grace period."""

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.core import outbox
from apps.core.models import OutboxMessage, OutboxState
from apps.core.tests.outage import broker_back, broker_down
from apps.documents import checking, orphans, services
from apps.documents.models import Document
from apps.documents.states import DocumentState as S
from apps.documents.tests.conftest import FIXTURES
from apps.documents.tests.helpers import sited_draft, upload_statement

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def docs(transactional_db):
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.documents.seed import seed_documents

    with translation.override("en"):
        world = World()
    seed_documents(with_requirements=True)
    return world


def _statement_upload() -> dict:
    data = (FIXTURES / "statement_cn_debit_credit.csv").read_bytes()
    return {"document_type": "bank_statement",
            "file": SimpleUploadedFile("statement.csv", data, content_type="text/csv")}


def wait_for(predicate, *, timeout: float = 60, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not reached within {timeout:.0f} s")


def test_broker_down_at_commit_answers_201_keeps_the_file_and_checks_it_later(
        docs, live_worker, monkeypatch):
    application = sited_draft(docs)
    api = APIClient()
    api.force_authenticate(docs.user("am.north"))
    url = f"/api/v1/applications/{application.pk}/documents/"

    broker_down(monkeypatch)
    first = api.post(url, _statement_upload(), format="multipart", HTTP_IDEMPOTENCY_KEY="up-1")
    assert first.status_code == 201, first.content
    document = Document.objects.get(pk=first.json()["id"])
    path = Path(settings.MEDIA_ROOT) / document.storage_name
    assert path.exists() and document.state == S.UPLOADED
    message = OutboxMessage.objects.get(task_name="documents.document_check")
    assert message.kwargs == {"document_id": document.pk}
    assert message.state == OutboxState.PENDING and message.last_error

    # The phone lost the answer and resends the same file with the same key: no second copy.
    replay = api.post(url, _statement_upload(), format="multipart", HTTP_IDEMPOTENCY_KEY="up-1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == document.pk
    assert Document.objects.count() == 1 and OutboxMessage.objects.count() == 1

    broker_back(monkeypatch)
    assert outbox.outbox_relay(now=timezone.now() + dt.timedelta(minutes=1))["sent"] == 1
    done = wait_for(lambda: Document.objects.exclude(state__in=[S.UPLOADED, S.CHECKING])
                    .filter(pk=document.pk).first(), what="the checks")
    assert done.state == S.PASSED, done.attention_reason
    assert path.exists()


def test_a_failure_after_commit_never_deletes_the_stored_file(docs, monkeypatch):
    application = sited_draft(docs)
    prepare = checking.document_checks_prepare

    def prepare_then_fail_after_commit(*, document):
        kinds = prepare(document=document)
        # Whatever raises once the row has committed (a broker client, a signal receiver).
        transaction.on_commit(lambda: (_ for _ in ()).throw(ConnectionError("after commit")))
        return kinds

    monkeypatch.setattr(services, "document_checks_prepare", prepare_then_fail_after_commit)
    with pytest.raises(ConnectionError):
        upload_statement(docs, application)
    document = Document.objects.get()  # committed: the row and its event stand ...
    assert AuditEvent.objects.filter(action="document.uploaded",
                                     subject_id=str(document.pk)).exists()
    assert (Path(settings.MEDIA_ROOT) / document.storage_name).exists()  # ... and so does the file


def test_the_orphan_sweep_removes_only_old_files_without_a_row(docs):
    application = sited_draft(docs)
    kept = upload_statement(docs, application)
    kept_path = Path(settings.MEDIA_ROOT) / kept.storage_name
    folder = kept_path.parent
    old_orphan, young_orphan = folder / "0rphan-old.csv", folder / "0rphan-young.csv"
    for orphan in (old_orphan, young_orphan):
        orphan.write_bytes(b"a,b\n")
    two_days_ago = time.time() - 2 * 86400
    for path in (old_orphan, kept_path):  # the row's file is old too: age alone never counts
        os.utime(path, (two_days_ago, two_days_ago))

    counts = orphans.document_orphans_sweep()

    assert counts["removed"] == 1
    assert not old_orphan.exists()
    assert young_orphan.exists() and kept_path.exists()
