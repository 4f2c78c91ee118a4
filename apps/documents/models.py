"""Document types (what the bank collects) and documents (what was collected for a file).

A document's bytes live in the default storage (the local disk or an S3-compatible bucket) as
documents/<yyyy>/<mm>/<uuid>.<ext>: the name is generated, never the client's (OWASP File Upload
Cheat Sheet, "Filename Sanitization"), and the store is never served directly; files go out only
through the permission-checked download view.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import PublishedVersion, TimeStampedModel, WorkflowModel
from apps.core.policy import Evidence
from apps.documents.states import (
    GATED_STAGES,
    CheckKind,
    CheckStatus,
    DocumentFormat,
    DocumentState,
    RecordKind,
)

S = DocumentState
C = CheckStatus


def default_allowed_formats() -> list[str]:
    return [DocumentFormat.PDF.value, DocumentFormat.JPEG.value, DocumentFormat.PNG.value]


class DocumentType(TimeStampedModel):
    """A kind of document the bank collects (business licence, bank statement, site photo…).

    What each product needs of a type, and when, is `DocumentRequirement` (per product and
    stage); the type holds what is true of the document everywhere.
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


def may_waive_for(application, user, *, uploader_id: int | None = None) -> bool:
    """Domain reference §3.5: a waiver is approved by someone other than the requester. The
    account manager (who collects, and so asks for any waiver) and whoever uploaded the file
    never waive; a team lead of the application's branch does. No superuser bypass."""
    from apps.accounts.roles import Role
    from apps.accounts.selectors import visible_branch_ids

    if user is None or not user.is_authenticated or not user.has_role(Role.TEAM_LEAD):
        return False
    if user.pk in {application.account_manager_id, application.created_by_id, uploader_id}:
        return False
    branch_ids = visible_branch_ids(viewer=user)
    return branch_ids is None or application.branch_id in branch_ids


def can_waive(document: "Document", user) -> bool:
    return may_waive_for(document.application, user, uploader_id=document.uploaded_by_id)


def may_recheck(application, user) -> bool:
    """Who may re-run checks: those who prepare the file (account manager, branch team lead)
    or a risk reviewer of its branch, who may want a check repeated before deciding."""
    from apps.accounts.roles import Role
    from apps.accounts.selectors import visible_branch_ids
    from apps.applications.permissions import can_prepare

    if user is None or not user.is_authenticated:
        return False
    if can_prepare(application, user):
        return True
    branch_ids = visible_branch_ids(viewer=user)
    return user.has_role(Role.RISK_REVIEWER) and (branch_ids is None
                                                  or application.branch_id in branch_ids)


def can_recheck(document: "Document", user) -> bool:
    return may_recheck(document.application, user)


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

    # The name in the default storage, generated by the service; unique so two rows never
    # share bytes.
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

    # Validity: entered at upload or extracted by the expiry check; `expires_on` is what the
    # checklist and the re-collection reminders read (valid_until, else upload + validity).
    valid_until = models.DateField(_("valid until (entered)"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True, db_index=True)
    # The investigation checklist item the file is evidence for (e.g. "C1"), if any.
    item_code = models.CharField(_("checklist item"), max_length=40, blank=True)
    checks_started_at = models.DateTimeField(_("checks started at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    attention_reason = models.TextField(_("why it needs attention"), blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["application", "document_type"]),
                   # the sweeper's scan: documents whose checks have not finished
                   models.Index(fields=["state", "checks_started_at"])]

    def __str__(self) -> str:
        return f"{self.document_type_id}:{self.pk}"

    @property
    def is_duplicate(self) -> bool:
        return bool(self.duplicate_of)

    # --- transitions: they only set fields; services lock, audit and enqueue -----------------

    @transition(field=state, source=S.UPLOADED, target=S.CHECKING, permission=system_only)
    def check_start(self, *, at) -> None:
        """A check worker picked the document up."""
        self.checks_started_at, self.attention_reason = at, ""

    @transition(field=state, source=S.CHECKING, target=S.PASSED, permission=system_only)
    def check_pass(self, *, at) -> None:
        """Every check passed."""
        self.checked_at = at

    @transition(field=state, source=S.CHECKING, target=S.FAILED, permission=system_only)
    def check_fail(self, *, at) -> None:
        """A check found the document wrong (expired, mismatched, unreadable)."""
        self.checked_at = at

    @transition(field=state, source=S.CHECKING, target=S.NEEDS_ATTENTION,
                permission=system_only)
    def check_flag(self, *, at, reason: str) -> None:
        """A check crashed, timed out or found something a person must look at; the document
        is kept and can be re-checked."""
        self.checked_at, self.attention_reason = at, reason

    @transition(field=state, source=[S.NEEDS_ATTENTION, S.FAILED], target=S.CHECKING,
                permission=system_only)
    def check_restart(self, *, at) -> None:
        """The system runs the checks again (kept for system re-runs; people use recheck)."""
        self.checks_started_at, self.attention_reason = at, ""

    @transition(field=state, source=[S.NEEDS_ATTENTION, S.FAILED, S.PASSED], target=S.CHECKING,
                permission=can_recheck)
    def recheck(self, *, at) -> None:
        """A person asks for the checks to run again (new checker version, fixed policy)."""
        self.checks_started_at, self.attention_reason = at, ""

    @transition(field=state, source=[S.UPLOADED, S.FAILED, S.NEEDS_ATTENTION, S.PASSED],
                target=S.WAIVED, permission=can_waive)
    def waive(self, *, by, reason: str) -> None:
        """An authorised person accepts the file without (passing) checks, with a reason."""
        self.waived_by, self.waived_at, self.waive_reason = by, timezone.now(), reason


class DocumentRequirement(TimeStampedModel):
    """What a product needs of one document type before an application moves on (domain
    reference §3.5, "required-document list per product and stage"): policy data, edited in
    the admin, read by the checklist, the gate and the checks.

    `stage` names the application transition that needs it; the requirement also holds at
    every later stage of the main road. A product with no rows is not gated.
    """

    product = models.ForeignKey("products.CreditProduct", on_delete=models.PROTECT,
                                related_name="document_requirements",
                                verbose_name=_("product"))
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT,
                                      related_name="requirements",
                                      verbose_name=_("document type"))
    stage = models.CharField(_("needed before"), max_length=30, default="send_to_review",
                             choices=[(s, s) for s in GATED_STAGES])
    required = models.BooleanField(_("required"), default=True)
    min_count = models.PositiveSmallIntegerField(_("how many"), default=1)
    accepted_formats = models.JSONField(
        _("accepted formats"), default=list, blank=True,
        help_text=_("Narrows the type's formats for this product; empty: the type's own."))
    validity_days = models.PositiveIntegerField(
        _("valid for (days)"), null=True, blank=True,
        help_text=_("Overrides the type's validity for this product; empty: the type's."))
    checks = models.JSONField(_("checks to run"), default=list, blank=True)
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    source_citation = models.CharField(_("source"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["product", "stage", "document_type"]
        verbose_name = _("document requirement")
        verbose_name_plural = _("document requirements")
        constraints = [
            models.UniqueConstraint(fields=["product", "document_type", "stage"],
                                    name="documents_requirement_unique"),
            models.CheckConstraint(condition=models.Q(min_count__gte=1),
                                   name="documents_requirement_min_count"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.document_type_id}@{self.stage}"

    def clean(self) -> None:
        errors = {}
        known_formats = set(DocumentFormat.values)
        if not isinstance(self.accepted_formats, list) or not set(self.accepted_formats) <= (
                known_formats):
            errors["accepted_formats"] = _("Choose from: %(formats)s.") % {
                "formats": ", ".join(sorted(known_formats))}
        elif self.document_type_id and self.accepted_formats and not set(
                self.accepted_formats) <= set(self.document_type.allowed_formats):
            errors["accepted_formats"] = _("A requirement can only narrow the formats its "
                                           "document type accepts.")
        known_checks = set(CheckKind.values)
        if not isinstance(self.checks, list) or not set(self.checks) <= known_checks:
            errors["checks"] = _("Choose from: %(checks)s.") % {
                "checks": ", ".join(sorted(known_checks))}
        if errors:
            raise ValidationError(errors)


class DocumentRequirementSet(PublishedVersion):
    """One version of a product's document requirements, edited in the policy workbench
    (issue 17): one series per product of the shared policy-version machine
    (`apps.core.models.PublishedVersion`): drafted, published four-eyes, frozen once published.

    `rows` is the whole list, one object per requirement: {"document_type": code, "stage",
    "required", "min_count", "accepted_formats", "validity_days", "checks", "evidence",
    "source_citation"}. Publishing applies it to the `DocumentRequirement` rows every reader
    uses (upserted by product × type × stage; rows it no longer lists are deactivated, never
    deleted, since waivers point at them), in the publishing transaction.
    """

    publish_permission = "documents.publish_documentrequirementset"
    audit_prefix = "document_requirements"
    series_fields = ("product",)

    product = models.ForeignKey("products.CreditProduct", on_delete=models.PROTECT,
                                related_name="document_requirement_sets",
                                verbose_name=_("product"))
    version = models.PositiveIntegerField(_("version"))
    rows = models.JSONField(_("requirements"), default=list, blank=True)

    class Meta:
        ordering = ["product", "-version"]
        permissions = [("publish_documentrequirementset",
                        _("Can publish document requirements"))]
        verbose_name = _("document requirement set")
        verbose_name_plural = _("document requirement sets")
        constraints = [
            models.UniqueConstraint(fields=["product", "version"],
                                    name="documents_requirement_set_version"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} v{self.version}"


class RequirementWaiver(TimeStampedModel):
    """A required document waived for one application without a file (§3.5: approved by
    someone other than the requester, shown in the credit memo and the audit trail)."""

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="document_waivers",
                                    verbose_name=_("application"))
    requirement = models.ForeignKey(DocumentRequirement, on_delete=models.PROTECT,
                                    related_name="waivers", verbose_name=_("requirement"))
    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("waived by"))
    reason = models.TextField(_("reason"))

    def __str__(self) -> str:
        return f"{self.application_id}:{self.requirement_id}"

    class Meta:
        verbose_name = _("requirement waiver")
        verbose_name_plural = _("requirement waivers")
        constraints = [models.UniqueConstraint(fields=["application", "requirement"],
                                               name="documents_waiver_once")]


class DocumentCheck(WorkflowModel):
    """The result of one kind of check on one document: unique per (document, kind), so a
    task delivered twice stores one result (CONVENTIONS §4, idempotent tasks).

    pending → running → passed / failed / attention / error; running → pending when the
    sweeper re-queues a check whose worker died; any finished check → pending on re-run.
    """

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="checks",
                                 verbose_name=_("document"))
    kind = models.CharField(_("check"), max_length=20, choices=CheckKind.choices)
    status = FSMField(_("status"), default=C.PENDING, choices=C.choices, protected=True)
    findings = models.JSONField(_("findings"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    checker_version = models.CharField(_("checker version"), max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["document", "kind"]
        verbose_name = _("document check")
        verbose_name_plural = _("document checks")
        constraints = [models.UniqueConstraint(fields=["document", "kind"],
                                               name="documents_check_once_per_kind")]
        indexes = [models.Index(fields=["status", "started_at"])]

    def __str__(self) -> str:
        return f"{self.document_id}:{self.kind}={self.status}"

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None

    @transition(field=status, source=C.PENDING, target=C.RUNNING, permission=system_only)
    def start(self, *, at) -> None:
        """A worker begins the check; attempts count crashes the sweeper has to recover."""
        self.started_at, self.finished_at, self.attempts, self.error = at, None, \
            self.attempts + 1, ""

    @transition(field=status, source=C.RUNNING, target=C.PASSED, permission=system_only)
    def record_pass(self, *, at, findings: dict, version: str) -> None:
        """Nothing wrong found."""
        self.finished_at, self.findings, self.checker_version = at, findings, version

    @transition(field=status, source=C.RUNNING, target=C.FAILED, permission=system_only)
    def record_fail(self, *, at, findings: dict, version: str) -> None:
        """The document is wrong for its purpose (expired, unreadable records)."""
        self.finished_at, self.findings, self.checker_version = at, findings, version

    @transition(field=status, source=C.RUNNING, target=C.ATTENTION, permission=system_only)
    def record_attention(self, *, at, findings: dict, version: str) -> None:
        """Something a person must look at (red-flag pattern, photo far from the site)."""
        self.finished_at, self.findings, self.checker_version = at, findings, version

    @transition(field=status, source=[C.PENDING, C.RUNNING], target=C.ERROR,
                permission=system_only)
    def record_error(self, *, at, error: str, version: str) -> None:
        """The checker crashed, timed out or gave up after retries; the file is untouched."""
        self.finished_at, self.error, self.checker_version = at, error[:2000], version

    @transition(field=status, source=C.RUNNING, target=C.PENDING, permission=system_only)
    def requeue(self) -> None:
        """The sweeper found it running far too long: its worker died mid-check."""

    @transition(field=status, source=[C.PASSED, C.FAILED, C.ATTENTION, C.ERROR],
                target=C.PENDING, permission=system_only)
    def reset(self) -> None:
        """A re-run of the document's checks starts this one afresh (attempts kept)."""
        self.findings, self.error, self.finished_at = {}, "", None


class PhotoHash(models.Model):
    """A photo's 64-bit difference hash, for reuse detection across all applications (§3.4).

    `value` is the hash as a signed 64-bit integer; `band0..3` are its four 16-bit quarters,
    each indexed: two hashes within 3 bits share at least one quarter exactly (pigeonhole), so
    the search looks up candidates by band instead of scanning every photo.
    """

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="phash",
                                    primary_key=True)
    application_id_copy = models.IntegerField(_("application"), db_index=True)
    value = models.BigIntegerField(_("hash"))
    band0 = models.PositiveIntegerField(db_index=True)
    band1 = models.PositiveIntegerField(db_index=True)
    band2 = models.PositiveIntegerField(db_index=True)
    band3 = models.PositiveIntegerField(db_index=True)

    class Meta:
        verbose_name = _("photo hash")
        verbose_name_plural = _("photo hashes")

    def __str__(self) -> str:
        return f"{self.document_id}:{self.value}"


class ColumnProfile(TimeStampedModel):
    """How one bank's (or tax bureau's, or utility's) export names its columns: data, so a new
    bank's layout is a new row, not code.

    `columns` maps a field (date, description, counterparty, debit, credit, amount, balance,
    channel; period, revenue, tax_paid; kwh, cost) to the header texts that mean it. A layout
    matches when every field in `required` is found in one header row.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("record kind"), max_length=20, choices=RecordKind.choices)
    columns = models.JSONField(_("columns"), default=dict)
    required = models.JSONField(_("required fields"), default=list)
    date_formats = models.JSONField(_("date formats"), default=list, blank=True)
    cash_keywords = models.JSONField(_("cash keywords"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # issue 19: a mapping a person confirmed on a real file becomes the bank's profile; each
    # confirmation is a new version of the bank's family (the older one retired, kept).
    family = models.SlugField(_("bank"), max_length=40, blank=True, allow_unicode=True,
                              help_text=_("The bank (or bureau) whose export this is; "
                                          "versions of one family replace each other."))
    version = models.PositiveIntegerField(_("version"), default=1)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_on = models.ForeignKey("Document", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("confirmed on document"))

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("column profile")
        verbose_name_plural = _("column profiles")
        constraints = [models.UniqueConstraint(
            fields=["family", "version"], condition=~models.Q(family=""),
            name="documents_columnprofile_family_version")]

    def __str__(self) -> str:
        return self.code


class DocumentReminder(models.Model):
    """A re-collection reminder sent for one document and one window, once: the unique key is
    what makes the daily sweep idempotent. It is also the in-app record the account manager
    sees on the checklist."""

    class Window(models.TextChoices):
        EXPIRING = "expiring", _("Expiring soon")
        EXPIRED = "expired", _("Expired")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reminders")
    window = models.CharField(_("window"), max_length=10, choices=Window.choices)
    expires_on = models.DateField(_("expires on"))
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("recipient"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("re-collection reminder")
        verbose_name_plural = _("re-collection reminders")
        constraints = [models.UniqueConstraint(fields=["document", "window", "expires_on"],
                                               name="documents_reminder_once")]

    def __str__(self) -> str:
        return f"{self.document_id}:{self.window}:{self.expires_on}"


class PhotoFingerprint(models.Model):
    """A photo's edit-resistant fingerprint (issue 19; apps/documents/checks/fingerprint.py).

    `stored` holds the hashes of its windows (kind -> signed 64-bit), `query` the hashes it is
    looked up by (straightened and zoomed central windows). Every 16-bit quarter of every
    stored hash is a `PhotoBandKey` row, so the search is equality lookups on one index.
    """

    document = models.OneToOneField(Document, on_delete=models.CASCADE,
                                    related_name="fingerprint", primary_key=True)
    application_id_copy = models.IntegerField(_("application"), db_index=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    version = models.CharField(_("version"), max_length=16)
    stored = models.JSONField(_("stored hashes"), default=dict)
    query = models.JSONField(_("query hashes"), default=dict)

    class Meta:
        verbose_name = _("photo fingerprint")
        verbose_name_plural = _("photo fingerprints")

    def __str__(self) -> str:
        return f"{self.document_id}:{self.version}"


class PhotoBandKey(models.Model):
    """One band of one stored hash: `key` = quarter index (0-3) << 16 | the quarter's value,
    `value` the whole hash (signed 64-bit). Two hashes sharing a key agree exactly on that
    quarter (the multi-index search); the index carries the hash, so the candidates are
    verified by popcount without touching the table."""

    id = models.BigAutoField(primary_key=True)
    key = models.IntegerField()
    value = models.BigIntegerField()
    document_id_copy = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["key"], include=["value", "document_id_copy"],
                                name="photo_band_key_idx"),
                   models.Index(fields=["document_id_copy"], name="photo_band_doc_idx")]

    def __str__(self) -> str:
        return f"{self.key}:{self.document_id_copy}"
