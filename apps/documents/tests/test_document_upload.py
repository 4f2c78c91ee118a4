"""The upload service: permission, the hostile corpus end to end, storage and duplicates."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.audit.models import AuditEvent
from apps.documents import services
from apps.documents.models import Document, DocumentType
from apps.documents.safety import UploadRejected
from apps.documents.states import DocumentState
from apps.documents.tests import corpus
from apps.documents.tests.conftest import stored_files, upload_file

pytestmark = pytest.mark.django_db


def upload(world, app, data, *, name="file.bin", type_code="bank_statement", user="am.north"):
    return services.document_upload(application_id=app.pk, document_type_code=type_code,
                                    uploaded_file=upload_file(data, name),
                                    actor=world.user(user))


HAPPY = [
    ("site_photo", corpus.jpeg, "jpeg", "jpg"),
    ("site_photo", corpus.png, "png", "png"),
    ("bank_statement", corpus.pdf, "pdf", "pdf"),
    ("bank_statement", corpus.xlsx, "xlsx", "xlsx"),
    ("bank_statement", corpus.csv_utf8, "csv", "csv"),
]


def test_happy_paths(world, types):
    """One world for every format (setting it up is the slow part); per-format unit cases are
    in test_safety.py."""
    app = world.draft()
    for type_code, make, fmt, ext in HAPPY:
        before = stored_files()
        document = upload(world, app, make(), name=f"Statement Oct.{ext}", type_code=type_code)

        document.refresh_from_db()
        assert (document.detected_format, document.state) == (fmt, DocumentState.UPLOADED)
        assert document.original_filename == f"Statement Oct.{ext}"
        assert not document.quarantined and document.duplicate_of == []
        # Stored under a generated name with the detected extension, outside any served path.
        path = Path(settings.MEDIA_ROOT) / document.storage_name
        assert stored_files() - before == {path}, fmt
        assert path.name.endswith(f".{ext}") and "Statement" not in document.storage_name
        assert document.storage_name.startswith(f"documents/{document.uploaded_at:%Y/%m}/")
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        event = AuditEvent.objects.get(action="document.uploaded", subject_id=str(document.pk))
        assert event.payload["sha256"] == document.sha256 and event.branch_id == app.branch_id


HOSTILE = [
    ("exe renamed .pdf", corpus.windows_exe, "invoice.pdf", "format_not_allowed"),
    ("jpeg + zip polyglot", corpus.jpeg_with_zip, "photo.jpg", "polyglot"),
    ("html before pdf", corpus.html_then_pdf, "statement.pdf", "polyglot"),
    ("encrypted pdf", corpus.pdf_encrypted, "statement.pdf", "pdf_encrypted"),
    ("zip bomb as xlsx", corpus.xlsx_zip_bomb, "statement.xlsx", "zip_bomb"),
    ("pixel flood", corpus.pixel_flood_png, "photo.png", "image_too_large"),
    ("path traversal", corpus.pdf, "../../../config/settings/base.py", "filename_path"),
    ("control characters", corpus.pdf, "state\x00ment\r\n.pdf", "filename_control_chars"),
]


def test_hostile_files_refused_and_nothing_left(world, types):
    """The acceptance corpus of issue 5 through the whole service, one world for all."""
    app = world.draft()
    for label, make, name, code in HOSTILE:
        type_code = "site_photo" if name.endswith((".jpg", ".png")) else "bank_statement"
        before, events = stored_files(), AuditEvent.objects.count()
        with pytest.raises(UploadRejected) as info:
            upload(world, app, make(), name=name, type_code=type_code)
        assert info.value.code == code, label
        assert info.value.message, label
        assert stored_files() == before, label
        assert not Document.objects.exists() and AuditEvent.objects.count() == events, label


def test_oversized_file_refused_and_nothing_left(world, types):
    DocumentType.objects.filter(code="bank_statement").update(max_size_bytes=1024)
    app, before = world.draft(), stored_files()
    with pytest.raises(UploadRejected, match="larger than the 1 KB"):
        upload(world, app, corpus.pdf(pages=30))
    assert stored_files() == before and not Document.objects.exists()


@pytest.mark.parametrize("make", [lambda: corpus.pdf_with_open_action("javascript"),
                                  corpus.pdf_with_attachment])
def test_active_pdf_is_quarantined_with_its_reason(world, types, make):
    document = upload(world, world.draft(), make(), name="statement.pdf")
    assert document.quarantined and "active content" in document.quarantine_reason
    event = AuditEvent.objects.get(action="document.uploaded")
    assert event.payload["quarantined"] is True
    assert event.payload["quarantine_reason"] == document.quarantine_reason


def test_failure_after_the_file_is_placed_leaves_nothing(world, types, monkeypatch):
    app, before = world.draft(), stored_files()

    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        upload(world, app, corpus.pdf())
    assert stored_files() == before and not Document.objects.exists()


def test_duplicates_flagged_across_applications(world, types):
    data = corpus.pdf(pages=2)
    first = upload(world, world.draft(), data)
    other_firm = world.draft()
    second = upload(world, other_firm, data, user="lead.north")
    assert first.duplicate_of == [] and second.duplicate_of == [first.pk]
    assert second.sha256 == first.sha256 and second.storage_name != first.storage_name
    event = AuditEvent.objects.get(action="document.uploaded", subject_id=str(second.pk))
    assert event.payload["duplicate_of"] == [first.pk]


def test_identical_images_are_duplicates_by_upload_digest(world, types):
    data = corpus.jpeg(gps=True)
    first = upload(world, world.draft(), data, type_code="site_photo")
    second = upload(world, world.draft(), data, type_code="site_photo")
    assert second.duplicate_of == [first.pk]
    assert first.stored_sha256 != first.sha256  # re-encoded on store
    assert first.metadata["exif"]["gps"] == {"lat": 31.235, "lon": 121.475}


def test_other_branch_gets_404(world, types):
    with pytest.raises(Http404):
        upload(world, world.draft(), corpus.pdf(), user="am.south")


@pytest.mark.parametrize("username", ["reviewer.north", "approver.north"])
def test_only_preparers_upload(world, types, username):
    with pytest.raises(PermissionDenied):
        upload(world, world.draft(), corpus.pdf(), user=username)


def test_unknown_or_inactive_type_refused(world, types):
    DocumentType.objects.filter(code="bank_statement").update(is_active=False)
    with pytest.raises(UploadRejected) as info:
        upload(world, world.draft(), corpus.pdf())
    assert info.value.code == "unknown_type"


def test_closed_application_takes_no_documents(world, types):
    app = world.in_state("withdrawn")
    with pytest.raises(services.ApplicationClosed):
        upload(world, app, corpus.pdf())


def test_disbursed_file_takes_post_loan_evidence(world, types):
    """The loan's file: a post-loan inspection's photos are uploaded after disbursement."""
    app = world.in_state("disbursed")
    document = upload(world, app, corpus.pdf())
    assert document.application_id == app.pk
