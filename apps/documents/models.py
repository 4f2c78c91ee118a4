"""Document types (what the bank collects) and documents (what was collected for a file).

A document's bytes live under MEDIA_ROOT/documents/<yyyy>/<mm>/<uuid>.<ext>: the name is
generated, never the client's (OWASP File Upload Cheat Sheet, "Filename Sanitization"), and
MEDIA_ROOT is not served by the web server; files go out only through the permission-checked
download view.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import TimeStampedModel, WorkflowModel
from apps.documents.states import DocumentFormat, DocumentState

S = DocumentState


def default_allowed_formats() -> list[str]:
    return [DocumentFormat.PDF.value, DocumentFormat.JPEG.value, DocumentFormat.PNG.value]


class DocumentType(TimeStampedModel):
    """A kind of document the bank collects (business licence, bank statement, site photo…).

    `requirements` is a placeholder for the per-product, per-stage rules of the checklist
    (required or optional, how many, which checks run); its shape is settled with the checklist
    part of issue 5. Until then it is free JSON and nothing reads it.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    allowed_formats = models.JSONField(
        _("allowed formats"), default=default_allowed_formats,
        help_text=_("Formats accepted for this type, decided from the file's content."))
    max_size_bytes = models.PositiveBigIntegerField(_("largest file (bytes)"),
                                                    default=10 * 1024 * 1024)
    expires = models.BooleanField(_("expires"), default=False)
    validity_days = models.PositiveIntegerField(_("valid for (days)"), null=True, blank=True)
    requirements = models.JSONField(_("requirements per product and stage"), default=dict,
                                    blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        constraints = [
            models.CheckConstraint(condition=models.Q(max_size_bytes__gt=0),
                                   name="documents_type_max_size_positive"),
            # An expiring type without a validity period could never be re-collected. (isnull
            # spelt out: NULL > 0 is unknown, and a CHECK lets unknown through.)
            models.CheckConstraint(
                condition=models.Q(expires=False)
                | models.Q(validity_days__isnull=False, validity_days__gt=0),
                name="documents_type_expiry_has_validity"),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        known = set(DocumentFormat.values)
        formats = self.allowed_formats
        if not isinstance(formats, list) or not formats or not set(formats) <= known:
            raise ValidationError({"allowed_formats": _(
                "Choose one or more of: %(formats)s.") % {"formats": ", ".join(sorted(known))}})

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


def can_waive(document: "Document", user) -> bool:
    """A team lead of the file's branch may waive a document (placeholder until the checklist
    part of issue 5 names the authorised roles per product)."""
    from apps.accounts.roles import Role
    from apps.accounts.selectors import visible_branch_ids

    if not user.is_authenticated or not user.has_role(Role.TEAM_LEAD):
        return False
    branch_ids = visible_branch_ids(viewer=user)
    return branch_ids is None or document.application.branch_id in branch_ids


def system_only(document: "Document", user) -> bool:
    """Check results are recorded by the check workers, never by a person."""
    return user is None


class Document(WorkflowModel):
    """One collected file for one application, with what was learnt about it at upload.

    `sha256` is of the bytes the client sent (evidence: the same file sent for two firms is a
    red flag); `stored_sha256` is of the bytes on disk, which differ for images (re-encoded).
    """

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="documents", verbose_name=_("application"))
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT,
                                      related_name="documents", verbose_name=_("document type"))
    state = FSMField(_("state"), default=S.UPLOADED, choices=S.choices, protected=True,
                     db_index=True)

    # Relative to MEDIA_ROOT, generated by the service; unique so two rows never share bytes.
    storage_name = models.CharField(_("stored as"), max_length=200, unique=True)
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    detected_format = models.CharField(_("format"), max_length=10,
                                       choices=DocumentFormat.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256 of the upload"), max_length=64, db_index=True)
    stored_sha256 = models.CharField(_("SHA-256 of the stored file"), max_length=64)
    duplicate_of = models.JSONField(
        _("duplicate of"), default=list, blank=True,
        help_text=_("Ids of earlier documents with identical content, in any application."))
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    quarantined = models.BooleanField(_("quarantined"), default=False)
    quarantine_reason = models.TextField(_("quarantine reason"), blank=True)

    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("waived by"))
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waive_reason = models.TextField(_("waiver reason"), blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["application", "document_type"])]

    def __str__(self) -> str:
        return f"{self.document_type_id}:{self.pk}"

    @property
    def is_duplicate(self) -> bool:
        return bool(self.duplicate_of)

    # --- transitions: they only set fields; services lock, audit and enqueue -----------------

    @transition(field=state, source=S.UPLOADED, target=S.CHECKING, permission=system_only)
    def check_start(self) -> None:
        """A check worker picked the document up."""

    @transition(field=state, source=S.CHECKING, target=S.PASSED, permission=system_only)
    def check_pass(self) -> None:
        """Every check passed."""

    @transition(field=state, source=S.CHECKING, target=S.FAILED, permission=system_only)
    def check_fail(self) -> None:
        """A check found the document wrong (expired, mismatched, unreadable)."""

    @transition(field=state, source=S.CHECKING, target=S.NEEDS_ATTENTION,
                permission=system_only)
    def check_flag(self) -> None:
        """A check crashed, timed out or found something a person must look at; the document
        is kept and can be re-checked."""

    @transition(field=state, source=[S.NEEDS_ATTENTION, S.FAILED], target=S.CHECKING,
                permission=system_only)
    def check_restart(self) -> None:
        """Re-run the checks (a person's re-run action, or the sweeper for stuck checks)."""

    @transition(field=state, source=[S.UPLOADED, S.FAILED, S.NEEDS_ATTENTION], target=S.WAIVED,
                permission=can_waive)
    def waive(self, *, by, reason: str) -> None:
        """An authorised person accepts the file without (passing) checks, with a reason."""
        self.waived_by, self.waived_at, self.waive_reason = by, timezone.now(), reason
