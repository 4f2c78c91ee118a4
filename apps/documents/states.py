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


class CheckKind(TextChoices):
    """The checks a worker runs on a document; which ones run is requirement data."""

    PHOTO = "photo", _("Photo metadata and reuse")
    PDF = "pdf", _("PDF text and structure")
    BANK_STATEMENT = "bank_statement", _("Bank-statement analysis")
    TAX_RECORD = "tax_record", _("Tax-record series")
    UTILITY_BILL = "utility_bill", _("Utility-record series")
    EXPIRY = "expiry", _("Expiry and validity")


class CheckStatus(TextChoices):
    """One check's progress and outcome. `error` is a crash or timeout, not a finding about
    the document: the check can be run again."""

    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    ATTENTION = "attention", _("Needs attention")
    ERROR = "error", _("Error")


CHECK_DONE = frozenset({CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.ATTENTION,
                        CheckStatus.ERROR})


class ChecklistStatus(TextChoices):
    """A requirement's status on an application's checklist (derived, never stored)."""

    MISSING = "missing", _("Missing")
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    WAIVED = "waived", _("Waived")
    EXPIRED = "expired", _("Expired")


class RecordKind(TextChoices):
    """Tabular records the checks parse with a column profile."""

    BANK_STATEMENT = "bank_statement", _("Bank statement")
    TAX_RECORD = "tax_record", _("Tax record")
    UTILITY_BILL = "utility_bill", _("Utility record")


# Application transitions a document requirement may gate, in the order of the main road: a
# requirement of an earlier stage still holds at every later one (an expired licence blocks
# approval too).
GATED_STAGES = ("submit", "start_investigation", "send_to_review", "send_to_approval",
                "approve", "contract", "disburse")
STAGE_LABELS = {
    "submit": _("Submission"), "start_investigation": _("Investigation"),
    "send_to_review": _("Review"), "send_to_approval": _("Approval"),
    "approve": _("Decision"), "contract": _("Contract"), "disburse": _("Disbursement"),
}
