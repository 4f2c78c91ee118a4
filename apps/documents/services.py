"""Writes of documents: the upload (safety pipeline, storage, row and audit) and the audited
download.

Storage rule: bytes are stored through Django's default storage (the local disk under
MEDIA_ROOT, or an S3-compatible bucket: apps.core.storage) as documents/<yyyy>/<mm>/<uuid>.<ext>,
a name we generate (OWASP File Upload Cheat Sheet: "change the filename to something generated
by the application"); the store is never served directly.
"""

import datetime as dt
import hashlib
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status

from apps.accounts.models import User
from apps.applications.permissions import can_prepare
from apps.applications.selectors import application_get
from apps.applications.states import TERMINAL_STATES, ApplicationState
from apps.audit.services import audit_record, audit_record_now
from apps.core import storage as stored
from apps.core.exceptions import DomainError
from apps.documents import safety
from apps.documents.checking import document_checks_prepare
from apps.documents.models import Document, DocumentType
from apps.documents.selectors import document_get
from apps.documents.states import EXTENSIONS

STAGING = ".staging"


class DocumentQuarantined(DomainError):
    """A quarantined document is kept as evidence and never served (HTTP 409)."""

    code = "document_quarantined"
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This document is quarantined and cannot be downloaded.")


class InvalidUploadDetails(DomainError):
    """Details sent with the file (device position, validity date) are out of range."""

    code = "invalid"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("Some details sent with the file are not valid.")


class ApplicationClosed(DomainError):
    code = "application_closed"
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The application is closed; it takes no more documents.")


# Files that take no more documents. A disbursed file is closed to the credit workflow but
# lives on as the loan's file: post-loan inspection photos and action evidence go there.
CLOSED_TO_DOCUMENTS = TERMINAL_STATES - {ApplicationState.DISBURSED}

# A checklist item's code (investigations.Item.code) is at most 40 characters.
ITEM_CODE_MAX = 40

DOCUMENTS_PREFIX = "documents/"


def staging_root() -> Path:
    """Where uploads are spooled and checked before they are stored. On the local disk: a
    private folder inside the store, on the same filesystem, so storing is an atomic rename and
    a half-written file is never visible under its final name. On object storage: this host's
    temporary folder (the PUT that stores the file is atomic)."""
    if stored.is_local():
        from django.core.files.storage import default_storage

        staging = Path(default_storage.location) / "documents" / STAGING
    else:
        staging = Path(getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
                       or tempfile.gettempdir()) / "credence-upload-staging"
    staging.mkdir(parents=True, exist_ok=True, mode=0o700)
    return staging


def _staging_dir() -> Path:
    return Path(tempfile.mkdtemp(dir=staging_root(), prefix="upload-"))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(safety.CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _lock_digest(sha256: str) -> None:
    """Serialise uploads of identical content on PostgreSQL, so two concurrent copies still
    see each other as duplicates. SQLite's IMMEDIATE transactions already serialise writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(sha256[:15], 16)])


def _device(lat, lng, accuracy_m) -> dict:
    """The phone's reported position at upload, checked for range; both coordinates or
    neither (a lone latitude places nothing)."""
    errors: dict[str, list[str]] = {}
    if (lat is None) != (lng is None):
        errors["device_lng" if lng is None else "device_lat"] = [
            _("Give both latitude and longitude, or neither.")]
    if lat is not None and not -90 <= float(lat) <= 90:
        errors["device_lat"] = [_("Latitude must be between -90 and 90.")]
    if lng is not None and not -180 <= float(lng) <= 180:
        errors["device_lng"] = [_("Longitude must be between -180 and 180.")]
    if accuracy_m is not None and not 0 <= float(accuracy_m) <= 100_000:
        errors["device_accuracy_m"] = [_("Accuracy must be between 0 and 100000 metres.")]
    if errors:
        raise InvalidUploadDetails(fields=errors)
    if lat is None:
        return {}
    device = {"lat": str(lat), "lng": str(lng)}
    if accuracy_m is not None:
        device["accuracy_m"] = str(accuracy_m)
    return {"device": device}


def _allowed_formats(application, document_type: DocumentType) -> list[str]:
    """The type's formats, narrowed by the product's requirement if it names any."""
    from apps.documents.models import DocumentRequirement

    allowed = list(document_type.allowed_formats)
    for narrowed in DocumentRequirement.objects.filter(
            product_id=application.product_version.product_id, document_type=document_type,
            is_active=True).values_list("accepted_formats", flat=True):
        if narrowed:
            allowed = [f for f in allowed if f in narrowed]
    return allowed


def document_upload(*, application_id: int, document_type_code: str, uploaded_file,
                    actor: User, device_lat=None, device_lng=None, device_accuracy_m=None,
                    item_code: str = "", valid_until: dt.date | None = None) -> Document:
    """Take one file for an application: check it as hostile input, store it under a generated
    name, record the row and the "document.uploaded" event in one transaction.

    Who: the application's account manager or a team lead of its branch (`can_prepare`); others
    who cannot see the file get 404. A refusal or a failure before the row could commit leaves
    nothing on disk or in the database; once the row may have committed, the stored file is
    never deleted here (issue 16: a failure after commit used to delete committed evidence).
    Bytes whose row never committed are the orphan sweep's (`document_orphans_sweep`).
    May run inside a caller's transaction (an Idempotency-Key command, the demo seed).
    Identical content already held (in any application) is accepted but flagged
    with the other documents' ids: the same statement sent for two firms is a fraud red flag.
    """
    application = application_get(viewer=actor, application_id=application_id)
    if not can_prepare(application, actor):
        raise PermissionDenied(_("Only the account manager or a team lead of the branch may "
                                 "upload documents."))
    if application.state in CLOSED_TO_DOCUMENTS:
        raise ApplicationClosed()
    document_type = DocumentType.objects.filter(code=document_type_code, is_active=True).first()
    if document_type is None:
        raise safety.UploadRejected("unknown_type", _("Choose a document type."))
    original_filename = safety.filename_sanitise(getattr(uploaded_file, "name", "") or "")
    device = _device(device_lat, device_lng, device_accuracy_m)
    if len(item_code or "") > ITEM_CODE_MAX:
        raise InvalidUploadDetails(fields={"item_code": [
            _("At most %(n)d characters.") % {"n": ITEM_CODE_MAX}]})

    work_dir = _staging_dir()
    stored_name: str | None = None
    # Set as the block's last statement: past it, leaving the block commits (or releases the
    # savepoint into a caller's transaction), and a failure there (a commit that may have
    # happened, a lost connection) leaves the row's fate unknown, so the file must stay.
    row_may_commit = False
    try:
        spooled = safety.spool(uploaded_file.chunks(), max_bytes=document_type.max_size_bytes,
                               directory=work_dir)
        result = safety.inspect(spooled,
                                allowed_formats=_allowed_formats(application, document_type),
                                work_dir=work_dir)
        now = timezone.now()
        storage_name = f"documents/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{result.extension}"
        stored_sha256 = (spooled.sha256 if result.path == spooled.path
                         else _file_sha256(result.path))
        # Stored before the transaction opens (no lock is held across an upload to object
        # storage). From here until the block's last statement a failure removes it below.
        stored_name = stored.staged_save(storage_name, result.path)
        with transaction.atomic():
            _lock_digest(spooled.sha256)
            duplicates = list(Document.objects.filter(sha256=spooled.sha256)
                              .order_by("pk").values_list("pk", flat=True))
            document = Document.objects.create(
                application=application, document_type=document_type,
                storage_name=stored_name, original_filename=original_filename,
                detected_format=result.format, content_type=result.content_type,
                size=spooled.size, sha256=spooled.sha256, stored_sha256=stored_sha256,
                duplicate_of=duplicates, metadata={**result.metadata, **device},
                uploaded_by=actor, uploaded_at=now, quarantined=bool(result.quarantine_reason),
                quarantine_reason=result.quarantine_reason, item_code=item_code or "",
                valid_until=valid_until, expires_on=_expires_on(document_type, valid_until, now),
            )
            audit_record(
                action="document.uploaded", actor=actor, subject=document,
                branch_id=application.branch_id,
                payload={"application_id": application.pk, "document_type": document_type.code,
                         "format": result.format, "size": spooled.size,
                         "sha256": spooled.sha256, "original_filename": original_filename,
                         "duplicate_of": duplicates,
                         "quarantined": document.quarantined,
                         "quarantine_reason": result.quarantine_reason,
                         "item_code": item_code or "",
                         "valid_until": valid_until.isoformat() if valid_until else None},
            )
            document_checks_prepare(document=document)
            row_may_commit = True
    except BaseException:
        # Only a failure inside the block is a certain rollback: the row and the event are
        # gone, so the bytes are ours to remove. Otherwise the row may exist: keep them.
        if stored_name is not None and not row_may_commit:
            _discard(stored_name)
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return document


def _expires_on(document_type: DocumentType, valid_until, now) -> dt.date | None:
    """A first expiry date for the checklist and reminders; the expiry check refines it
    (a date printed in the document, the product's own validity period)."""
    if valid_until:
        return valid_until
    if document_type.expires and document_type.validity_days:
        return timezone.localdate(now) + dt.timedelta(days=document_type.validity_days)
    return None


def _discard(name: str) -> None:
    """Remove bytes whose row certainly did not commit; a failure to remove them is left to
    the orphan sweep (never raised over the error that got us here)."""
    from django.core.files.storage import default_storage

    try:
        default_storage.delete(name)
    except Exception:  # noqa: BLE001 - the sweep removes it later
        import logging

        logging.getLogger(__name__).warning("could not remove %s; the orphan sweep will",
                                            name, exc_info=True)


def document_storage_name(document: Document) -> str:
    """The document's name in the store, refusing any name outside the documents area or
    inside its staging folder (defence in depth: storage names are generated, but rows can be
    edited in the admin)."""
    name = document.storage_name
    parts = Path(name).parts
    if (not name.startswith(DOCUMENTS_PREFIX) or name.startswith("/") or "\\" in name
            or ".." in parts or STAGING in parts):
        raise PermissionDenied(_("The document's storage location is invalid."))
    return name


def document_local_copy(document: Document):
    """A worker's private local copy of the stored file, fetched through the storage API
    (a context manager yielding its path): checks never open the store by path."""
    suffix = Path(document.storage_name).suffix
    return stored.local_copy(document_storage_name(document), suffix=suffix)


def document_download(*, document_id: int, actor: User) -> tuple[Document, BinaryIO | str]:
    """Hand out a document the viewer may see, and record that they took it.

    Anyone who may see the application may read its documents (404 otherwise). Quarantined
    documents are never served. Each download is audited ("document.downloaded"): customer
    documents are personal information (PIPL art. 51: access control and records).
    Returns the document and either an open stored file to stream or, on object storage with
    STORAGE_SIGNED_URL_SECONDS set, a signed URL valid that long to redirect to.
    """
    document = document_get(viewer=actor, document_id=document_id)
    if document.quarantined:
        raise DocumentQuarantined()
    # Opened before the event is written: an event means the bytes were there to hand out.
    source = stored.download_source(document_storage_name(document),
                                    filename=document_download_filename(document),
                                    content_type=document.content_type)
    try:
        audit_record_now(action="document.downloaded", actor=actor, subject=document,
                         branch_id=document.application.branch_id,
                         payload={"application_id": document.application_id,
                                  "via": "signed_url" if isinstance(source, str) else "stream"})
    except BaseException:
        if not isinstance(source, str):
            source.close()
        raise
    return document, source


def document_download_filename(document: Document) -> str:
    """The client's name with the detected extension: "invoice.html" holding a PDF downloads
    as "invoice.pdf", so the desktop does not open it as a web page either."""
    stem = document.original_filename.rsplit(".", 1)[0] or f"document-{document.pk}"
    return f"{stem}.{EXTENSIONS[document.detected_format]}"
