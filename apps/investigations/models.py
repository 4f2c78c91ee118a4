"""Pre-lending investigation checklists as versioned data (domain reference §3.2, §3.5, §8.1).

A template is sections → items; each item carries its answer type, evidence requirement,
validation rules and red-flag rules, and the template carries cross-check rules. Every rule is
text in the safe expression language (`apps.investigations.expressions`), compiled against the
template's item codes when the template is validated and again before it is published. A
published template never changes: the next change is a new version, and an investigation keeps
the version it began on (§3.5).

Thresholds are policy data (§0.2): rules name `policy("key")`, and `PolicyValue` holds the
values with their evidence tag and source. `PolicyValue` lives here for now; it belongs in a
shared policy app that every later stage (scoring, approvals, monitoring) reads, and should move
there when that app exists.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import (
    PolicyVersionPart,
    PublishedVersion,
    WorkflowModel,
)
from apps.core.policy import Evidence, PolicyVersionState
from apps.investigations.states import (
    InvestigationState,
    ReVerificationMethod,
    ReVerificationOutcome,
    ReVerificationState,
)


def _localised(obj, stem: str) -> str:
    return getattr(obj, f"{stem}_zh" if (get_language() or "").startswith("zh") else f"{stem}_en")


class AnswerType(models.TextChoices):
    """Answer types of §3.2. DERIVED is the reference's CALC: computed from other answers by
    its expression, never typed by hand."""

    YES_NO = "yes_no", _("Yes / no")
    NUMBER = "number", _("Number with unit")
    MONEY = "money", _("Amount of money")
    PERCENT = "percent", _("Percentage")
    DATE = "date", _("Date")
    TEXT = "text", _("Text")
    SINGLE_CHOICE = "single_choice", _("One choice")
    MULTI_CHOICE = "multi_choice", _("Several choices")
    TABLE = "table", _("Table")
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")
    LOCATION = "location", _("Location")
    DERIVED = "derived", _("Derived (computed)")


class Severity(models.TextChoices):
    """Red-flag severities (§3.2): R3 knockout/escalate, R2 reviewer must comment, R1 note."""

    R1 = "R1", _("R1: note")
    R2 = "R2", _("R2: reviewer must comment")
    R3 = "R3", _("R3: knockout or escalation")


class PolicyValueManager(models.Manager):
    """What every reader of thresholds sees: published and retired values, never a draft, so a
    value being drafted in the workbench is read by no rule until a second officer publishes it.
    The workbench reads drafts through `PolicyValue.all_versions`."""

    def get_queryset(self):
        return super().get_queryset().exclude(state=PolicyVersionState.DRAFT)


class PolicyValue(PublishedVersion):
    """One versioned threshold a rule may read with `policy("key")` (§0.2 policy-data rule).

    The value in force on a day is the highest published (or since retired) version whose
    `effective_from` is on or before it and whose `effective_to` (exclusive) is after it. Rule
    evaluations record the version used. Versions of one key are a series of the shared
    policy-version machine (`PublishedVersion`): drafted in the policy workbench, published
    four-eyes, the previous version retiring the day the new one starts. Rows written directly
    by seeds and imports (the system, actor None, as before the workbench) are published as
    they are created. Scope (product / segment / branch) is not modelled yet.
    """

    publish_permission = "investigations.publish_policyvalue"
    audit_prefix = "policy_value"
    series_fields = ("key",)

    key = models.CharField(_("key"), max_length=120, db_index=True)
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    effective_from = models.DateField(_("effective from"))
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    version = models.PositiveIntegerField(_("version"), default=1)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    description_zh = models.CharField(_("description (Chinese)"), max_length=300, blank=True)

    objects = PolicyValueManager()
    all_versions = models.Manager()

    class Meta:
        ordering = ["key", "-version"]
        permissions = [("publish_policyvalue", _("Can publish policy values"))]
        verbose_name = _("policy value")
        verbose_name_plural = _("policy values")
        constraints = [
            models.UniqueConstraint(fields=["key", "version"],
                                    name="investigations_policy_key_version"),
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value} {self.unit} (v{self.version}, {self.evidence})"

    def save(self, *args, **kwargs):
        """A row the workbench did not draft (`drafting`) is the system's: in force as written,
        as every seed and template import has always done."""
        if self._state.adding and not getattr(self, "drafting", False):
            self.__dict__["state"] = PolicyVersionState.PUBLISHED  # behind the protected field
        super().save(*args, **kwargs)

    @property
    def description(self) -> str:
        return _localised(self, "description")


class ChecklistTemplate(PublishedVersion):
    """A versioned investigation checklist, for one product or (product empty) the default.

    Draft → published → retired, the shared policy-version machine (`PublishedVersion`). Only
    drafts change; publishing requires every rule to compile (`template_validate`) and retires
    the previously published version of the same code.
    """

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    product = models.ForeignKey("products.CreditProduct", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="checklist_templates",
                                verbose_name=_("product"),
                                help_text=_("Empty: the default template for any product."))
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    is_default = models.BooleanField(
        _("default template"), default=False,
        help_text=_("Used for products without a template of their own; other product-less "
                    "templates are chosen explicitly when the investigation is assigned."))

    publish_permission = "investigations.publish_checklisttemplate"
    audit_prefix = "checklist_template"
    series_fields = ("code",)

    class Meta:
        ordering = ["code", "-version"]
        permissions = [("publish_checklisttemplate", _("Can publish checklist templates"))]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"],
                                    name="investigations_template_code_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def name(self) -> str:
        return _localised(self, "name")


class Section(PolicyVersionPart, models.Model):
    """A group of items shown as one step of the form (e.g. B 人品 / Character)."""

    policy_version_field = "template"

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE,
                                 related_name="sections", verbose_name=_("template"))
    code = models.CharField(_("code"), max_length=20)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)

    class Meta:
        ordering = ["template", "order", "id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [
            models.UniqueConstraint(fields=["template", "code"],
                                    name="investigations_section_code_per_template"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title_en}"

    @property
    def title(self) -> str:
        return _localised(self, "title")


class Item(PolicyVersionPart, models.Model):
    """One question of the checklist, with what makes its answer acceptable and suspicious.

    JSON shapes (checked by `template_validate`):
      choices          [{"code": "owned", "en": "Owned", "zh": "自有"}, ...]
      columns          {"columns": [{"code", "type", "en", "zh"}], "rows": [{"code", "en", "zh"}]}
                       (rows only for fixed-row tables such as a reconstructed balance sheet)
      evidence         {"document_types": ["lease"], "photo_count": 2}
      validation_rules [{"code", "expression", "message": {"en", "zh"}}]  fails when false
      red_flag_rules   [{"code", "when", "severity": "R1|R2|R3", "message": {"en", "zh"}}]
    """

    policy_version_field = "template"

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE,
                                 related_name="items", verbose_name=_("template"))
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items",
                                verbose_name=_("section"))
    code = models.CharField(_("code"), max_length=40,
                            help_text=_("Used by rules; letters, digits and _, not starting "
                                        "with a digit."))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    answer_type = models.CharField(_("answer type"), max_length=20, choices=AnswerType.choices)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    min_length = models.PositiveSmallIntegerField(_("minimum length"), null=True, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    columns = models.JSONField(_("table columns"), default=dict, blank=True)
    expression = models.TextField(_("expression"), blank=True,
                                  help_text=_("Derived items only: how the value is computed."))
    label_en = models.CharField(_("label (English)"), max_length=300)
    label_zh = models.CharField(_("label (Chinese)"), max_length=300)
    help_en = models.TextField(_("help (English)"), blank=True)
    help_zh = models.TextField(_("help (Chinese)"), blank=True)
    required = models.BooleanField(_("required"), default=True)
    na_allowed = models.BooleanField(_("'not applicable' allowed"), default=False,
                                     help_text=_("N/A always needs a reason (§3.2)."))
    evidence = models.JSONField(_("evidence required"), default=dict, blank=True)
    validation_rules = models.JSONField(_("validation rules"), default=list, blank=True)
    red_flag_rules = models.JSONField(_("red-flag rules"), default=list, blank=True)

    class Meta:
        ordering = ["template", "section__order", "order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(fields=["template", "code"],
                                    name="investigations_item_code_per_template"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label_en}"

    @property
    def label(self) -> str:
        return _localised(self, "label")


class CrossCheckRule(PolicyVersionPart, models.Model):
    """Compares answers with each other and with evidence data (§3.3 D4/D5, §3.1 交叉检验).

    `expression` gives the compared metric (e.g. the largest pairwise deviation of declared,
    tax, bank-inflow and electricity-implied sales). `thresholds` are tried in order, most
    severe first: [{"severity": "R3", "operator": ">", "policy": "xcheck.sales.r3_deviation"}]
    (a literal `"value"` is allowed for tests and drafts, but shipped templates use policy keys).
    `explanation_en/zh` are templates with `{metric}`, `{threshold}` and `{CODE}` placeholders,
    filled with the numbers compared, so each finding explains itself.
    """

    policy_version_field = "template"

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE,
                                 related_name="cross_checks", verbose_name=_("template"))
    code = models.CharField(_("code"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    expression = models.TextField(_("expression"))
    thresholds = models.JSONField(_("thresholds"), default=list)
    explanation_en = models.TextField(_("explanation (English)"))
    explanation_zh = models.TextField(_("explanation (Chinese)"))

    class Meta:
        ordering = ["template", "order", "id"]
        verbose_name = _("cross-check rule")
        verbose_name_plural = _("cross-check rules")
        constraints = [
            models.UniqueConstraint(fields=["template", "code"],
                                    name="investigations_crosscheck_code_per_template"),
        ]

    def __str__(self) -> str:
        return self.code


# --- The investigation of one application (issue 4, workflow) --------------------------------


def _is_investigator(investigation: "Investigation", user) -> bool:
    return user is not None and user.pk in (investigation.lead_officer_id,
                                            investigation.assisting_officer_id)


def reviewer_is_independent(investigation: "Investigation", user) -> bool:
    """审贷分离: the risk reviewer who judges an investigation neither did it nor prepared or
    manages the file. (Later review of the application is a separate four-eyes check.)"""
    from apps.accounts.roles import Role

    application = investigation.application
    return (user is not None and user.is_authenticated and user.has_role(Role.RISK_REVIEWER)
            and not _is_investigator(investigation, user)
            and user.pk not in (application.account_manager_id, application.created_by_id))


def investigator(investigation: "Investigation", user) -> bool:
    """Only the two assigned officers do the investigation (two people, 双人调查)."""
    return _is_investigator(investigation, user)


def reverification_requester(investigation: "Investigation", user) -> bool:
    """A team lead who did not investigate the file may ask for its re-verification (§3.4:
    besides the random sample, a supervisor re-checks a file he doubts). The branch is the
    service's check (a lead of another branch never sees the file)."""
    from apps.accounts.roles import Role

    return (user is not None and user.is_authenticated and user.has_role(Role.TEAM_LEAD)
            and not _is_investigator(investigation, user))


class Investigation(WorkflowModel):
    """The pre-lending investigation of one application, on the template version it began on.

    Two distinct officers (a lead and an assisting officer) do it together: the database
    refuses one person in both roles, so a single officer cannot tick both boxes (§3.1 双人调查).
    Red flags and cross-check findings are computed by the rules on each submission and kept
    here, so the reviewer sees exactly what was judged.
    """

    application = models.OneToOneField("applications.Application", on_delete=models.PROTECT,
                                       related_name="investigation",
                                       verbose_name=_("application"))
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.PROTECT,
                                 related_name="investigations", verbose_name=_("template"))
    lead_officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("lead officer"))
    assisting_officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                          related_name="+", verbose_name=_("assisting officer"))
    state = FSMField(_("state"), default=InvestigationState.ASSIGNED,
                     choices=InvestigationState.choices, protected=True, db_index=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("assigned by"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submission_count = models.PositiveSmallIntegerField(_("submissions"), default=0)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    red_flags = models.JSONField(_("red flags"), default=list, blank=True)
    cross_check_findings = models.JSONField(_("cross-check findings"), default=list,
                                            blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_reason = models.TextField(
        _("reason reopened"), blank=True,
        help_text=_("Why the application's reviewer sent an accepted investigation back."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("investigation")
        verbose_name_plural = _("investigations")
        constraints = [
            models.CheckConstraint(condition=~models.Q(lead_officer=models.F("assisting_officer")),
                                   name="investigations_two_distinct_officers"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} ({self.state})"

    @property
    def officer_ids(self) -> set[int]:
        return {self.lead_officer_id, self.assisting_officer_id}

    # --- transitions: fields on self only; the services do the rest ------------------------

    @transition(field=state, source=InvestigationState.ASSIGNED,
                target=InvestigationState.IN_PROGRESS, permission=investigator)
    def start(self, *, at) -> None:
        """An officer opens the form; answers may now be saved."""
        self.started_at = at

    @transition(field=state, source=[InvestigationState.IN_PROGRESS, InvestigationState.RETURNED],
                target=InvestigationState.SUBMITTED, permission=investigator)
    def submit(self, *, at, red_flags, cross_check_findings) -> None:
        """Complete (the service has checked what is missing); findings are frozen for review."""
        self.submitted_at = at
        self.submission_count += 1
        self.red_flags, self.cross_check_findings = red_flags, cross_check_findings

    @transition(field=state, source=InvestigationState.SUBMITTED,
                target=InvestigationState.ACCEPTED, permission=reviewer_is_independent)
    def accept(self, *, by, at) -> None:
        """An independent risk reviewer accepts the investigation as real and complete."""
        self.reviewed_by, self.reviewed_at, self.accepted_at = by, at, at

    @transition(field=state, source=InvestigationState.SUBMITTED,
                target=InvestigationState.RETURNED, permission=reviewer_is_independent)
    def return_for_correction(self, *, by, at) -> None:
        """Back to the officers with item-level comments (退回补正)."""
        self.reviewed_by, self.reviewed_at = by, at

    @transition(field=state, source=InvestigationState.ACCEPTED,
                target=InvestigationState.ACCEPTED, permission=reverification_requester)
    def request_reverification(self) -> None:
        """A team lead asks for this accepted file to be re-verified (§3.4). The investigation
        stays accepted: the move exists so that who may ask, and from which state, are the
        state machine's to say (403 not you, 409 not now); the service opens the
        re-verification."""

    @transition(field=state, source=InvestigationState.ACCEPTED,
                target=InvestigationState.RETURNED)
    def reopen(self, *, at, reason: str) -> None:
        """The application was returned for rework from review: the accepted investigation
        goes back to the officers so they can correct it and resubmit. No `permission=`: it
        only follows the application's own move, whose permission was already checked."""
        self.reopened_at, self.reopen_reason = at, reason
        self.accepted_at = None


class Answer(models.Model):
    """One officer's answer to one item; `version` grows on every change so two officers
    editing at once never overwrite each other silently (a stale save is a conflict)."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE,
                                      related_name="answers", verbose_name=_("investigation"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers",
                             verbose_name=_("item"))
    value = models.JSONField(_("value"), null=True, blank=True)
    evidence = models.JSONField(
        _("evidence"), default=dict, blank=True,
        help_text=_('{"documents": {"lease": [ids]}, "photos": [ids]} backing this answer.'))
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    na_reason = models.TextField(_("reason not applicable"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("answered by"))
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["investigation", "item__section__order", "item__order"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["investigation", "item"],
                                    name="investigations_one_answer_per_item"),
        ]
        indexes = [
            # The narrative-similarity control reads the most recent answers of one item and
            # of the same officers (controls/similarity.py): newest first, bounded.
            models.Index(fields=["item", "-updated_at"], name="inv_answer_item_recent"),
            models.Index(fields=["answered_by", "-updated_at"], name="inv_answer_officer_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} v{self.version}"


class ItemComment(models.Model):
    """A reviewer's comment on one item when returning an investigation (item-level 退回补正)."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE,
                                      related_name="comments", verbose_name=_("investigation"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("item"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    text = models.TextField(_("comment"))
    round = models.PositiveSmallIntegerField(_("submission round"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["investigation", "round", "id"]
        verbose_name = _("item comment")
        verbose_name_plural = _("item comments")

    def __str__(self) -> str:
        return f"{self.item.code}: {self.text[:40]}"


class SiteCheckIn(models.Model):
    """An officer's reported position at the site visit (现场签到); both officers must check in
    before the investigation can be submitted. Checking out closes the visit, so the time on
    site is known (§3.4: minimum time on site from check-in/out)."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE,
                                      related_name="check_ins", verbose_name=_("investigation"))
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("officer"))
    at = models.DateTimeField(_("checked in at"))
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    accuracy_m = models.DecimalField(_("accuracy (m)"), max_digits=8, decimal_places=1,
                                     null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    out_lat = models.DecimalField(_("check-out latitude"), max_digits=9, decimal_places=6,
                                  null=True, blank=True)
    out_lng = models.DecimalField(_("check-out longitude"), max_digits=9, decimal_places=6,
                                  null=True, blank=True)

    class Meta:
        ordering = ["investigation", "at"]
        verbose_name = _("site check-in")
        verbose_name_plural = _("site check-ins")

    def __str__(self) -> str:
        return f"{self.officer_id} @ {self.lat},{self.lng}"


class SectionTiming(models.Model):
    """When answers of one section were first and last saved: the time an officer spent on it,
    recorded from autosave events (issue 4: time spent per section). One row per section and
    investigation, updated in place by each save, so a save costs one small UPDATE."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE,
                                      related_name="section_timings",
                                      verbose_name=_("investigation"))
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("section"))
    first_saved_at = models.DateTimeField(_("first answer saved at"))
    last_saved_at = models.DateTimeField(_("last answer saved at"))
    saves = models.PositiveIntegerField(_("saves"), default=1)

    class Meta:
        ordering = ["investigation", "section__order"]
        verbose_name = _("section timing")
        verbose_name_plural = _("section timings")
        constraints = [
            models.UniqueConstraint(fields=["investigation", "section"],
                                    name="investigations_one_timing_per_section"),
        ]

    def __str__(self) -> str:
        return f"{self.section.code}: {self.saves} saves"


def reverifier(reverification: "ReVerification", user) -> bool:
    """Only the team lead the re-verification was assigned to records its outcome."""
    return user is not None and user.pk == reverification.assigned_to_id


class ReVerification(WorkflowModel):
    """A re-visit or call-back of an accepted investigation by a team lead who did not
    investigate it (§3.4 "random re-verification", sample rate from policy). The outcome
    counts for both officers of the investigation (§4.5 officer quality)."""

    investigation = models.OneToOneField(Investigation, on_delete=models.PROTECT,
                                         related_name="reverification",
                                         verbose_name=_("investigation"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("assigned to"))
    state = FSMField(_("state"), default=ReVerificationState.OPEN,
                     choices=ReVerificationState.choices, protected=True, db_index=True)
    sample_rate = models.DecimalField(_("sample rate"), max_digits=7, decimal_places=6,
                                      null=True, blank=True,
                                      help_text=_("Empty when a team lead asked for it."))
    draw = models.DecimalField(_("draw"), max_digits=7, decimal_places=6, null=True, blank=True,
                               help_text=_("The seeded random number that selected the file; "
                                           "empty when a team lead asked for it."))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"),
                                     help_text=_("The team lead who asked for it; empty when "
                                                 "the random sample drew the file."))
    reason = models.TextField(_("reason"), blank=True,
                              help_text=_("Why the team lead asked for it."))
    outcome = models.CharField(_("outcome"), max_length=20, choices=ReVerificationOutcome.choices,
                               blank=True)
    method = models.CharField(_("method"), max_length=10, choices=ReVerificationMethod.choices,
                              blank=True)
    notes = models.TextField(_("notes"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("re-verification")
        verbose_name_plural = _("re-verifications")
        constraints = [
            # Either the random sample drew the file (with its rate and draw) or a team lead
            # asked for it: never neither, so every row says why the file is re-checked.
            models.CheckConstraint(
                condition=(models.Q(sample_rate__isnull=False, draw__isnull=False)
                           | models.Q(requested_by__isnull=False)),
                name="investigations_reverification_drawn_or_requested"),
        ]

    def __str__(self) -> str:
        return f"{self.investigation_id} ({self.state})"

    @property
    def requested(self) -> bool:
        """Asked for by a team lead, not drawn by the random sample."""
        return self.requested_by_id is not None

    @transition(field=state, source=ReVerificationState.OPEN, target=ReVerificationState.DONE,
                permission=reverifier)
    def complete(self, *, outcome: str, notes: str, at, how: str = "") -> None:
        """The team lead has re-visited or called back and records what was found. (`how`,
        not `method`: django-fsm's change_state() takes `method` itself.)"""
        self.outcome, self.notes, self.completed_at = outcome, notes, at
        self.method = how
