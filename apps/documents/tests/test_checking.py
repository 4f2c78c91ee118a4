"""The check services: run, idempotency, crash and timeout, transient retry, sweeper, re-run."""

import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.task_names import TaskName
from apps.documents import checking
from apps.documents.checks import TransientCheckError
from apps.documents.models import Document, DocumentCheck, PhotoHash
from apps.documents.states import CheckStatus as C
from apps.documents.states import DocumentState as S
from apps.documents.tests.helpers import sited_draft, upload_photo, upload_statement

pytestmark = pytest.mark.django_db


def refresh(document):
    return Document.objects.get(pk=document.pk)


def test_upload_creates_pending_checks_and_sends_the_task_after_commit(
        docs, django_capture_on_commit_callbacks):
    app = sited_draft(docs)
    with mock.patch("apps.core.queue.current_app.send_task") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            document = upload_statement(docs, app)
        assert not send.called  # nothing leaves before the commit
        assert len(callbacks) == 1
        callbacks[0]()
    send.assert_called_once()
    assert send.call_args.args == (TaskName.DOCUMENT_CHECK,)
    assert send.call_args.kwargs["kwargs"] == {"document_id": document.pk}
    assert set(document.checks.values_list("kind", "status")) == {
        ("bank_statement", C.PENDING), ("expiry", C.PENDING)}


def test_checks_run_once_and_conclude_even_when_delivered_twice(docs):
    document = upload_statement(docs, sited_draft(docs))
    checking.document_check(document_id=document.pk)
    document = refresh(document)
    assert document.state == S.PASSED and document.checked_at is not None
    check = document.checks.get(kind="bank_statement")
    assert check.status == C.PASSED and check.attempts == 1
    assert check.checker_version == "records-1" and check.duration_ms is not None
    assert check.findings["transactions"] == 124
    events = AuditEvent.objects.count()

    checking.document_check(document_id=document.pk)  # a second delivery
    assert DocumentCheck.objects.filter(document=document).count() == 2
    assert document.checks.get(kind="bank_statement").attempts == 1
    assert AuditEvent.objects.count() == events
    recorded = AuditEvent.objects.filter(action="document.check_recorded",
                                         subject_id=str(document.pk))
    assert recorded.count() == 2


def test_a_crash_marks_the_document_needs_attention_and_keeps_the_file(docs):
    document = upload_statement(docs, sited_draft(docs))

    def crash(ctx):
        raise ValueError("parser bug")

    with mock.patch.object(checking, "checker", return_value=("boom-1", crash)):
        checking.document_check(document_id=document.pk)
    document = refresh(document)
    assert document.state == S.NEEDS_ATTENTION
    assert "parser bug" in document.attention_reason
    assert all(c.status == C.ERROR for c in document.checks.all())
    assert (Path(settings.MEDIA_ROOT) / document.storage_name).exists()


def test_a_timeout_is_recorded_as_such(docs):
    document = upload_statement(docs, sited_draft(docs))

    def slow(ctx):
        raise SoftTimeLimitExceeded()

    with mock.patch.object(checking, "checker", return_value=("slow-1", slow)):
        checking.document_check(document_id=document.pk)
    check = refresh(document).checks.first()
    assert check.status == C.ERROR and "time limit" in check.error
    assert refresh(document).state == S.NEEDS_ATTENTION


def test_transient_errors_put_the_check_back_for_the_retry(docs):
    document = upload_statement(docs, sited_draft(docs))

    def flaky(ctx):
        raise TransientCheckError("NFS hiccup")

    with mock.patch.object(checking, "checker", return_value=("flaky-1", flaky)), \
            pytest.raises(TransientCheckError):
        checking.document_check(document_id=document.pk)
    document = refresh(document)
    assert document.state == S.CHECKING
    statuses = set(document.checks.values_list("status", flat=True))
    assert C.PENDING in statuses and C.RUNNING not in statuses
    checking.document_check(document_id=document.pk)  # the retry
    assert refresh(document).state == S.PASSED


def _stuck(document, *, attempts: int):
    """A check whose worker died mid-run `attempts` times, started an hour ago."""
    with mock.patch.object(checking, "_record"):  # the worker "dies" before recording
        checking.document_check(document_id=document.pk)
    old = timezone.now() - dt.timedelta(hours=1)
    DocumentCheck.objects.filter(document=document).update(started_at=old, attempts=attempts)
    Document.objects.filter(pk=document.pk).update(checks_started_at=old)


def test_sweeper_requeues_a_check_whose_worker_died(docs):
    document = upload_statement(docs, sited_draft(docs))
    _stuck(document, attempts=1)
    assert set(document.checks.values_list("status", flat=True)) == {C.RUNNING}
    with mock.patch("apps.core.queue.current_app.send_task") as send:
        counts = checking.document_check_sweep()
    assert counts["requeued"] == 2
    assert set(document.checks.values_list("status", flat=True)) == {C.PENDING}
    # The task is sent on commit; under the test's transaction the callback is not run, so
    # run the delivery the sweeper asked for directly.
    del send
    checking.document_check(document_id=document.pk)
    assert refresh(document).state == S.PASSED
    assert AuditEvent.objects.filter(action="document.check_requeued").count() == 2


def test_sweeper_gives_up_after_the_attempt_limit(docs):
    document = upload_statement(docs, sited_draft(docs))
    _stuck(document, attempts=3)
    counts = checking.document_check_sweep()
    assert counts["gave_up"] == 2
    document = refresh(document)
    assert document.state == S.NEEDS_ATTENTION
    assert "stopped 3 times" in document.attention_reason


def test_sweeper_leaves_recent_work_alone(docs):
    document = upload_statement(docs, sited_draft(docs))
    with mock.patch.object(checking, "_record"):
        checking.document_check(document_id=document.pk)
    assert checking.document_check_sweep() == {"requeued": 0, "gave_up": 0, "resent": 0,
                                                "concluded": 0}


def test_recheck_by_authorised_people_only(docs):
    app = sited_draft(docs)
    document = upload_statement(docs, app)
    checking.document_check(document_id=document.pk)
    with pytest.raises(Http404):
        checking.document_recheck(document_id=document.pk, actor=docs.user("am.south"))
    with pytest.raises(PermissionDenied):
        checking.document_recheck(document_id=document.pk, actor=docs.user("approver.north"))
    checking.document_recheck(document_id=document.pk, actor=docs.user("reviewer.north"))
    document = refresh(document)
    assert document.state == S.CHECKING
    assert set(document.checks.values_list("status", flat=True)) == {C.PENDING}
    checking.document_check(document_id=document.pk)
    assert refresh(document).state == S.PASSED
    assert document.checks.get(kind="bank_statement").attempts == 2


def test_photo_reuse_detected_across_applications(docs):
    first = upload_photo(docs, sited_draft(docs), 7)
    checking.document_check(document_id=first.pk)
    assert refresh(first).state == S.PASSED
    assert PhotoHash.objects.filter(document=first).exists()

    # The same picture sent again for another firm (a fresh upload: re-encoded, new digest
    # because the EXIF time differs).
    second = upload_photo(docs, sited_draft(docs), 7)
    checking.document_check(document_id=second.pk)
    second = refresh(second)
    assert second.state == S.NEEDS_ATTENTION
    check = second.checks.get(kind="photo")
    assert check.findings["reuse"][0]["document_id"] == first.pk
    assert "matches document" in second.attention_reason


def test_quarantined_files_are_never_parsed(docs):
    from apps.documents.tests import corpus
    from apps.documents.tests.helpers import upload

    app = sited_draft(docs)
    document = upload(docs, app, corpus.pdf_with_open_action("javascript"),
                      type_code="bank_statement", name="s.pdf")
    assert document.quarantined and not document.checks.exists()
    Document.objects.filter(pk=document.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(hours=1))
    assert checking.document_check_sweep()["resent"] == 0
    from apps.documents.checklist import checklist_rows

    row = next(r for r in checklist_rows(app)
               if r.requirement.document_type.code == "bank_statement")
    assert row.status == "failed" and row.blocking


def test_a_check_left_running_by_a_dead_run_is_resumed_by_the_retry(docs):
    """Issue 16: the retry used to skip a check marked running and leave it to the sweeper."""
    document = upload_statement(docs, sited_draft(docs))
    with mock.patch.object(checking, "_record"):  # the worker dies before recording
        checking.document_check(document_id=document.pk)
    assert set(document.checks.values_list("status", flat=True)) == {C.RUNNING}

    # Redelivered at once (a killed pool child): that run may be alive, so come back later.
    with pytest.raises(checking.ChecksBusy) as busy:
        checking.document_check(document_id=document.pk)
    assert 5 <= busy.value.countdown <= checking.check_lease().total_seconds() + 5

    # Once the lease is over the run is certainly dead: the retry resumes and concludes.
    past_lease = timezone.now() - checking.check_lease() - dt.timedelta(seconds=1)
    DocumentCheck.objects.filter(document=document).update(started_at=past_lease)
    assert checking.document_check(document_id=document.pk).state == S.PASSED
    assert set(document.checks.values_list("attempts", flat=True)) == {2}
    assert AuditEvent.objects.filter(action="document.check_requeued",
                                     payload__reason="resumed").count() == 2


def test_a_resumed_check_past_the_attempt_limit_is_visibly_abandoned(docs):
    document = upload_statement(docs, sited_draft(docs))
    _stuck(document, attempts=3)
    concluded = checking.document_check(document_id=document.pk)
    assert concluded.state == S.NEEDS_ATTENTION
    assert set(document.checks.values_list("status", flat=True)) == {C.ERROR}


def test_the_sweeper_concludes_a_document_whose_checks_are_all_done(docs):
    """A run that died between the last result and the conclusion left it checking."""
    document = upload_statement(docs, sited_draft(docs))
    with mock.patch.object(checking, "document_conclude"):
        checking.document_check(document_id=document.pk)
    assert refresh(document).state == S.CHECKING
    assert set(document.checks.values_list("status", flat=True)) == {C.PASSED}
    old = timezone.now() - dt.timedelta(hours=1)
    Document.objects.filter(pk=document.pk).update(checks_started_at=old)

    counts = checking.document_check_sweep()

    assert counts["concluded"] == 1 and refresh(document).state == S.PASSED
