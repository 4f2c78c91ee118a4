"""States of a collected document (issue 5: missing → uploaded → checking → passed / failed /
needs attention, or waived). "Missing" is not a row: it is a checklist requirement without one."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class DocumentState(TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    WAIVED = "waived", _("Waived")


class DocumentFormat(TextChoices):
    """The only formats the bank accepts, decided by content (magic bytes), never by name."""

    PDF = "pdf", "PDF"
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    WEBP = "webp", "WebP"
    XLSX = "xlsx", _("Excel workbook (xlsx)")
    CSV = "csv", "CSV"


# What a download is labelled with: the detected format's type, never the client's claim.
CONTENT_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.JPEG: "image/jpeg",
    DocumentFormat.PNG: "image/png",
    DocumentFormat.WEBP: "image/webp",
    DocumentFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentFormat.CSV: "text/csv",
}
EXTENSIONS = {
    DocumentFormat.PDF: "pdf", DocumentFormat.JPEG: "jpg", DocumentFormat.PNG: "png",
    DocumentFormat.WEBP: "webp", DocumentFormat.XLSX: "xlsx", DocumentFormat.CSV: "csv",
}
IMAGE_FORMATS = frozenset({DocumentFormat.JPEG, DocumentFormat.PNG, DocumentFormat.WEBP})
