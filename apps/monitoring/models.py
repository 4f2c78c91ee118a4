"""Post-loan monitoring (贷后管理): five-category classification, inspections, early-warning
signals and actions (domain reference §4 and §5). Every threshold is policy data.

Risk half (this module): the classification run and its per-loan records, the early-warning
signals and the mandatory actions their levels require. Rule tables (signal rules, level →
actions) are versioned data; every result records the version it used. Transitions only set
fields on the instance (CONVENTIONS §3); services lock, check, audit.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import (
    PolicyVersionPart,
    PublishedVersion,
    TimeStampedModel,
    WorkflowModel,
)
from apps.core.policy import Evidence, PolicyVersionState
from apps.monitoring.permissions import (
    may_approve_upgrade,
    may_confirm_classification,
    may_confirm_signal_close,
    may_reject_classification,
    may_waive_action,
    may_work_loan,
    system_or_officer,
)
from apps.monitoring.states import (
    ActionKind,
    ActionState,
    Category,
    ChunkState,
    ClassificationState,
    ProposalSource,
    RunState,
    SignalState,
    WarningLevel,
)
from apps.parties.money import MoneyField

CS, SS, AS = ClassificationState, SignalState, ActionState


class ClassificationRun(TimeStampedModel):
    """One monthly classification and signal run over the open loan book (one per as-of day).

    The sweep splits the book into chunks of loan ids; each chunk is one task doing set-based
    work. `policy_versions` records every policy key and rule version the run read."""

    as_of = models.DateField(_("as of"), unique=True)
    state = models.CharField(_("state"), max_length=10, choices=RunState.choices,
                             default=RunState.RUNNING)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    loans_total = models.PositiveIntegerField(_("loans"), default=0)
    policy_versions = models.JSONField(_("policy versions used"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-as_of"]
        verbose_name = _("classification run")
        verbose_name_plural = _("classification runs")

    def __str__(self) -> str:
        return f"{self.as_of} {self.state}"


class ClassificationRunChunk(TimeStampedModel):
    """A range of loan ids one task classifies; `pending` rows older than the policy's
    minutes are re-sent by the sweeper (a lost message), `failed` is visible on the run."""

    run = models.ForeignKey(ClassificationRun, on_delete=models.CASCADE, related_name="chunks",
                            verbose_name=_("run"))
    first_loan_id = models.BigIntegerField(_("first loan id"))
    last_loan_id = models.BigIntegerField(_("last loan id"))
    loans = models.PositiveIntegerField(_("loans"), default=0)
    state = models.CharField(_("state"), max_length=10, choices=ChunkState.choices,
                             default=ChunkState.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    counts = models.JSONField(_("results"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["run", "first_loan_id"]
        verbose_name = _("classification run chunk")
        verbose_name_plural = _("classification run chunks")
        constraints = [models.UniqueConstraint(fields=["run", "first_loan_id"],
                                               name="monitoring_chunk_unique_start")]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.first_loan_id}-{self.last_loan_id} {self.state}"


class LoanRiskStatus(models.Model):
    """A loan's current risk picture, one row per loan: the category in force, the latest
    rule floor with its reasons, and the warning level. Kept for lists and portfolio
    figures (NPL ratio) without scanning history; the history is in `Classification`."""

    loan = models.OneToOneField("loans.Loan", on_delete=models.CASCADE, primary_key=True,
                                related_name="risk_status", verbose_name=_("loan"))
    category = models.CharField(_("category in force"), max_length=20,
                                choices=Category.choices, default=Category.NORMAL)
    floor = models.CharField(_("rule floor"), max_length=20, choices=Category.choices,
                             default=Category.NORMAL)
    # [{"rule": "dpd", "category": "substandard", "observed": 95, "policy": {key: version}}]
    floor_reasons = models.JSONField(_("floor reasons"), default=list, blank=True)
    floor_as_of = models.DateField(_("floor as of"), null=True, blank=True)
    warning_level = models.PositiveSmallIntegerField(_("warning level"),
                                                     choices=WarningLevel.choices, default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("loan risk status")
        verbose_name_plural = _("loan risk statuses")
        indexes = [models.Index(fields=["category"]), models.Index(fields=["warning_level"])]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.category} L{self.warning_level}"


class LoanRestructuring(models.Model):
    """When a loan was restructured: the start of its observation period (§5.3 [M]).

    Written by `loan_restructuring_record` (the loan book's restructure service may call it
    with the real date); the classification run writes it, dated from the loan's audit trail
    or else the run day, when it first sees a loan in state `restructured` without one."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.CASCADE,
                             related_name="restructurings", verbose_name=_("loan"))
    restructured_on = models.DateField(_("restructured on"))
    source = models.CharField(_("source"), max_length=40)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["loan", "-restructured_on"]
        verbose_name = _("loan restructuring")
        verbose_name_plural = _("loan restructurings")
        constraints = [models.UniqueConstraint(fields=["loan", "restructured_on"],
                                               name="monitoring_restructuring_once_a_day")]

    def __str__(self) -> str:
        return f"{self.loan_id} restructured {self.restructured_on}"


class Classification(WorkflowModel):
    """One classification of one loan: proposed (by the run or an officer, with a reason),
    confirmed by a reviewer who is not the proposer (four-eyes), approved one level up when it
    is an upgrade, then in force until superseded. The floor and its reasons at proposal time
    are kept, so the decision can be re-explained later."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.CASCADE,
                             related_name="classifications", verbose_name=_("loan"))
    # Copied for scoping and audit without a join.
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    previous_category = models.CharField(_("category before"), max_length=20,
                                         choices=Category.choices, blank=True)
    floor = models.CharField(_("rule floor"), max_length=20, choices=Category.choices)
    floor_reasons = models.JSONField(_("floor reasons"), default=list, blank=True)
    is_upgrade = models.BooleanField(_("upgrade"), default=False)
    state = FSMField(_("state"), default=CS.PROPOSED, choices=CS.choices, protected=True,
                     db_index=True)
    source = models.CharField(_("proposed by"), max_length=10, choices=ProposalSource.choices)
    run = models.ForeignKey(ClassificationRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", verbose_name=_("run"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("proposer"))
    reason = models.TextField(_("reason"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    effective_at = models.DateTimeField(_("in force from"), null=True, blank=True)
    policy_versions = models.JSONField(_("policy versions used"), default=dict, blank=True)

    class Meta:
        ordering = ["loan", "-created_at", "-id"]
        verbose_name = _("loan classification")
        verbose_name_plural = _("loan classifications")
        indexes = [models.Index(fields=["branch", "state"])]
        constraints = [
            # One open proposal and one category in force per loan at a time.
            models.UniqueConstraint(fields=["loan"], condition=models.Q(
                state__in=[CS.PROPOSED, CS.CONFIRMED]), name="monitoring_one_open_proposal"),
            models.UniqueConstraint(fields=["loan"], condition=models.Q(state=CS.IN_FORCE),
                                    name="monitoring_one_in_force"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.category} {self.state}"

    @transition(field=state, source=CS.PROPOSED, target=CS.IN_FORCE,
                permission=may_confirm_classification)
    def confirm(self, *, by, at, note: str = "") -> None:
        """认定: a reviewer other than the proposer puts a non-upgrade in force."""
        self.confirmed_by, self.confirmed_at, self.decision_note = by, at, note
        self.effective_at = at

    @transition(field=state, source=CS.PROPOSED, target=CS.CONFIRMED,
                permission=may_confirm_classification)
    def confirm_upgrade(self, *, by, at, note: str = "") -> None:
        """认定 of an upgrade: it still needs approval one level up (§5.3)."""
        self.confirmed_by, self.confirmed_at, self.decision_note = by, at, note

    @transition(field=state, source=CS.CONFIRMED, target=CS.IN_FORCE,
                permission=may_approve_upgrade)
    def approve(self, *, by, at, note: str = "") -> None:
        """审批: an approver, neither proposer nor confirmer, puts the upgrade in force."""
        self.approved_by, self.approved_at, self.effective_at = by, at, at
        if note:
            self.decision_note = note

    @transition(field=state, source=[CS.PROPOSED, CS.CONFIRMED], target=CS.REJECTED,
                permission=may_reject_classification)
    def reject(self, *, by, at, note: str) -> None:
        """The reviewer or approver turns the proposal down, with a reason."""
        self.decision_note = note
        if self.state == CS.PROPOSED:
            self.confirmed_by, self.confirmed_at = by, at
        else:
            self.approved_by, self.approved_at = by, at

    @transition(field=state, source=[CS.PROPOSED, CS.CONFIRMED, CS.IN_FORCE],
                target=CS.SUPERSEDED)
    def supersede(self) -> None:
        """A newer proposal replaces an open one, or a newer category takes force."""


class ClassificationSnapshot(models.Model):
    """The category and balance of each loan at a run's as-of day: what the month-to-month
    migration matrix and historical NPL ratios read. Dimensions are copied so a later
    reassignment of the officer or branch does not rewrite history."""

    run = models.ForeignKey(ClassificationRun, on_delete=models.CASCADE,
                            related_name="snapshots", verbose_name=_("run"))
    as_of = models.DateField(_("as of"))
    loan = models.ForeignKey("loans.Loan", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("loan"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    officer_id = models.BigIntegerField(_("officer"))
    vintage = models.CharField(_("vintage (disbursement quarter)"), max_length=7)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    floor = models.CharField(_("rule floor"), max_length=20, choices=Category.choices)
    outstanding = MoneyField(_("outstanding principal"))

    class Meta:
        verbose_name = _("classification snapshot")
        verbose_name_plural = _("classification snapshots")
        constraints = [models.UniqueConstraint(fields=["as_of", "loan"],
                                               name="monitoring_snapshot_once")]
        indexes = [models.Index(fields=["as_of", "branch_id"])]

    def __str__(self) -> str:
        return f"{self.as_of} {self.loan_id}: {self.category}"


class PolicyDraftsHidden(models.Manager):
    """What every reader of a rule table sees: published and retired versions, never a draft,
    so a rule being drafted in the workbench is read by no run until a second officer
    publishes it. The workbench reads drafts through `all_versions`."""

    def get_queryset(self):
        return super().get_queryset().exclude(state=PolicyVersionState.DRAFT)


class SignalRule(PublishedVersion):
    """One version of an early-warning rule from the §4.3 catalogue (data, not code).

    `thresholds` names the policy keys the evaluator reads (never literal numbers); `levels`
    maps a band to a level where the rule has several (W01: dpd bands). `implies_floor`: an
    open signal of this rule sets the classification floor of its level (W01 does not: its
    floor is the DPD floor itself).

    The versions of one code are a series of the shared policy-version machine
    (`PublishedVersion`, driven by `apps.policy.versioning`): drafted in the policy workbench,
    published four-eyes, frozen once published, the version before it retiring the day the new
    one starts. Rows written directly by seeds (the system, as before the workbench) are
    published as they are created."""

    publish_permission = "monitoring.publish_signalrule"
    audit_prefix = "signal_rule"
    series_fields = ("code",)

    code = models.CharField(_("code"), max_length=10)
    version = models.PositiveIntegerField(_("version"), default=1)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=WarningLevel.choices)
    thresholds = models.JSONField(_("policy keys read"), default=list, blank=True)
    implies_floor = models.BooleanField(_("sets a classification floor"), default=True)
    source = models.CharField(_("data source"), max_length=100, blank=True)
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    effective_from = models.DateField(_("effective from"))

    objects = PolicyDraftsHidden()
    all_versions = models.Manager()

    class Meta:
        ordering = ["code", "-version"]
        permissions = [("publish_signalrule", _("Can publish early-warning signal rules"))]
        verbose_name = _("signal rule")
        verbose_name_plural = _("signal rules")
        constraints = [models.UniqueConstraint(fields=["code", "version"],
                                               name="monitoring_signal_rule_version")]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def save(self, *args, **kwargs):
        """A row the workbench did not draft (`drafting`) is the system's: in force as
        written, as every seed has always done."""
        if self._state.adding and not getattr(self, "drafting", False):
            self.__dict__["state"] = PolicyVersionState.PUBLISHED  # behind the protected field
        super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        """The rule's name in the active language (rules are data in both languages)."""
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def description(self) -> str:
        return (self.description_zh if (get_language() or "").startswith("zh")
                else self.description_en)


class Signal(WorkflowModel):
    """One early-warning signal on one loan (§4.3): what was observed against which baseline,
    under which rule version, at which level. One open signal per loan and code: a new
    observation updates it (level may rise or fall) rather than adding a duplicate."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.CASCADE, related_name="signals",
                             verbose_name=_("loan"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    code = models.CharField(_("code"), max_length=10)
    rule = models.ForeignKey(SignalRule, on_delete=models.PROTECT, related_name="signals",
                             verbose_name=_("rule version"))
    level = models.PositiveSmallIntegerField(_("level"), choices=WarningLevel.choices)
    observed = models.CharField(_("observed value"), max_length=200)
    baseline = models.CharField(_("baseline"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=100)
    details = models.JSONField(_("details"), default=dict, blank=True)
    state = FSMField(_("state"), default=SS.OPEN, choices=SS.choices, protected=True,
                     db_index=True)
    raised_at = models.DateTimeField(_("raised at"))
    observed_at = models.DateTimeField(_("last observed at"))
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("acknowledged by"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    close_note = models.TextField(_("closing note"), blank=True)
    close_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("close requested by"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-level", "-raised_at", "-id"]
        verbose_name = _("early-warning signal")
        verbose_name_plural = _("early-warning signals")
        indexes = [models.Index(fields=["branch", "state"])]
        constraints = [models.UniqueConstraint(
            fields=["loan", "code"], condition=~models.Q(state=SS.CLOSED),
            name="monitoring_one_open_signal_per_code")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.code} L{self.level} {self.state}"

    @transition(field=state, source=SS.OPEN, target=SS.ACKNOWLEDGED, permission=may_work_loan)
    def acknowledge(self, *, by, at) -> None:
        """The officer has seen the signal and is working on it."""
        self.acknowledged_by, self.acknowledged_at = by, at

    @transition(field=state, source=[SS.OPEN, SS.ACKNOWLEDGED], target=SS.CLOSED,
                permission=may_work_loan, conditions=[lambda s: s.level < WarningLevel.L3])
    def close(self, *, by, at, note: str) -> None:
        """Close a signal below L3, with a note saying why (§4.3: never without one)."""
        self.close_note, self.closed_by, self.closed_at = note, by, at

    @transition(field=state, source=[SS.OPEN, SS.ACKNOWLEDGED], target=SS.CLOSE_REQUESTED,
                permission=may_work_loan, conditions=[lambda s: s.level >= WarningLevel.L3])
    def request_close(self, *, by, note: str) -> None:
        """An L3 signal: the officer asks; a second person decides (§4.3)."""
        self.close_note, self.close_requested_by = note, by

    @transition(field=state, source=SS.CLOSE_REQUESTED, target=SS.CLOSED,
                permission=may_confirm_signal_close)
    def confirm_close(self, *, by, at) -> None:
        """The team lead or risk reviewer, not the requester, confirms the close."""
        self.closed_by, self.closed_at = by, at

    @transition(field=state, source=SS.CLOSE_REQUESTED, target=SS.ACKNOWLEDGED,
                permission=may_confirm_signal_close)
    def refuse_close(self, *, by, note: str) -> None:
        """The second person keeps the signal open; the reason is kept in the note."""
        self.close_note = note

    @transition(field=state, source=[SS.OPEN, SS.ACKNOWLEDGED, SS.CLOSE_REQUESTED],
                target=SS.CLOSED, permission=system_or_officer)
    def resolve(self, *, at, note: str) -> None:
        """The condition is no longer observed (e.g. arrears repaid): the system closes it
        with a note naming the observation. Only for signals the engine computes."""
        self.close_note, self.closed_at = note, at


class LevelActionTable(PublishedVersion):
    """One version of the level → mandatory actions table (§4.4): one series of the shared
    policy-version machine (`PublishedVersion`, driven by `apps.policy.versioning`), drafted
    in the policy workbench as a copy of the table in force, published four-eyes, frozen once
    published, the version before it retiring the day the new one starts."""

    publish_permission = "monitoring.publish_levelactiontable"
    audit_prefix = "level_action_table"
    series_fields = ()

    version = models.PositiveIntegerField(_("version"), unique=True)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["-version"]
        permissions = [("publish_levelactiontable",
                        _("Can publish the warning level action table"))]
        verbose_name = _("level action table")
        verbose_name_plural = _("level action tables")

    def __str__(self) -> str:
        return f"v{self.version}"


class LevelActionRule(PolicyVersionPart, TimeStampedModel):
    """Data: one mandatory action a warning level requires (a row of the §4.4 table), frozen
    with its table version. The deadline is a policy key (days), read when the action opens."""

    policy_version_field = "table"

    table = models.ForeignKey(LevelActionTable, on_delete=models.PROTECT, related_name="rules",
                              verbose_name=_("table version"))
    level = models.PositiveSmallIntegerField(_("level"), choices=WarningLevel.choices)
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    deadline_policy_key = models.CharField(_("deadline policy key"), max_length=120)
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    source_citation = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["table", "level", "kind"]
        verbose_name = _("level action rule")
        verbose_name_plural = _("level action rules")
        constraints = [models.UniqueConstraint(fields=["table", "level", "kind"],
                                               name="monitoring_level_action_once")]

    def __str__(self) -> str:
        return f"L{self.level} {self.kind}"


class Action(WorkflowModel):
    """One mandatory action on a loan (§4.4): owner (the loan's officer), deadline, evidence.

    open → done (evidence note, optional document) / waived (a second person, with reason);
    open → overdue by the sweeper past the deadline (still doable). One unfinished action per
    loan and kind."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.CASCADE, related_name="actions",
                             verbose_name=_("loan"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=WarningLevel.choices)
    rule = models.ForeignKey(LevelActionRule, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("rule"))
    signal = models.ForeignKey(Signal, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="actions", verbose_name=_("raised by signal"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"))
    due_date = models.DateField(_("due"), db_index=True)
    deadline_policy = models.JSONField(_("deadline policy used"), default=dict, blank=True)
    state = FSMField(_("state"), default=AS.OPEN, choices=AS.choices, protected=True,
                     db_index=True)
    evidence_note = models.TextField(_("evidence"), blank=True)
    evidence_document = models.ForeignKey("documents.Document", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("evidence document"))
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("done or waived by"))
    done_at = models.DateTimeField(_("done or waived at"), null=True, blank=True)
    waive_reason = models.TextField(_("reason waived"), blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("monitoring action")
        verbose_name_plural = _("monitoring actions")
        indexes = [models.Index(fields=["branch", "state", "due_date"])]
        constraints = [models.UniqueConstraint(
            fields=["loan", "kind"], condition=models.Q(state__in=[AS.OPEN, AS.OVERDUE]),
            name="monitoring_one_open_action_per_kind")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind} {self.state}"

    @transition(field=state, source=[AS.OPEN, AS.OVERDUE], target=AS.DONE,
                permission=may_work_loan)
    def complete(self, *, by, at, note: str, document=None) -> None:
        """Done, with the evidence (what was done, and a document where there is one)."""
        self.done_by, self.done_at = by, at
        self.evidence_note, self.evidence_document = note, document

    @transition(field=state, source=[AS.OPEN, AS.OVERDUE], target=AS.WAIVED,
                permission=may_waive_action)
    def waive(self, *, by, at, reason: str) -> None:
        """A second person (team lead or risk reviewer, not the owner) waives it, with reason."""
        self.done_by, self.done_at, self.waive_reason = by, at, reason

    @transition(field=state, source=AS.OPEN, target=AS.OVERDUE)
    def mark_overdue(self, *, at) -> None:
        """The sweeper: the deadline passed and the action is still open."""
        self.overdue_at = at
from apps.monitoring.covenant_models import *  # noqa: E402,F401,F403
from apps.monitoring.inspection_models import *  # noqa: E402,F401,F403
