"""Approval (审查审批, domain reference §6): review opinions, the authority matrix, frozen routes,
sign-offs, committee votes, delegations and conditions precedent.

The matrix is policy data (§0.2): amounts, grades, levels, committees and deadlines live in its
rows, never in code. A route is copied out of the matrix when the application enters approval,
so a later matrix change never alters a decision in flight (§2.4: an application keeps the
policy version it started with).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.approvals.states import ConditionState, RouteState, StepState
from apps.core.models import (
    PolicyVersionPart,
    PublishedVersion,
    TimeStampedModel,
    WorkflowModel,
)
from apps.core.policy import Evidence
from apps.parties.money import MoneyField


class StepKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Authorised approver")
    COMMITTEE = "committee", _("Credit committee")


class CommitteeScope(models.TextChoices):
    BRANCH = "branch", _("Branch credit committee")
    HEAD_OFFICE = "head_office", _("Head-office credit committee")


class PassRule(models.TextChoices):
    """§6.2: how many approving votes carry an item."""

    SIMPLE_MAJORITY = "simple_majority", _("More than half of the votes cast")
    TWO_THIRDS_PRESENT = "two_thirds_present", _("Two thirds of the votes cast")
    TWO_THIRDS_ALL = "two_thirds_all", _("Two thirds of all eligible members")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    RETURN = "return", _("Return for rework")
    REJECT = "reject", _("Reject")


class VoteChoice(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


# --- the authority matrix ----------------------------------------------------------------------

class AuthorityMatrix(PublishedVersion):
    """One version of the bank's delegation of lending authority (分级授权, §6.1).

    Draft → published (in force from `effective_from`; the version before it retires that day)
    → retired: the shared policy-version machine (`PublishedVersion`). Published rows are never
    edited: a change is a new version, four-eyes. One series for the whole bank.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    grades = models.JSONField(
        _("risk grades"), default=list,
        help_text=_('Every grade the rules must cover, e.g. ["A", "B", "C", "D", "ungraded"].'))

    publish_permission = "approvals.publish_authoritymatrix"
    audit_prefix = "authority_matrix"
    series_fields = ()

    class Meta:
        ordering = ["-version"]
        permissions = [("publish_authoritymatrix", _("Can publish authority matrices"))]
        verbose_name = _("authority matrix")
        verbose_name_plural = _("authority matrices")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class AuthorityRule(PolicyVersionPart, models.Model):
    """One row: product × amount band × grades × exception → the ordered steps that must sign.

    The band is `amount_above < amount ≤ amount_up_to` on group exposure (§6.1); an empty upper
    bound means "and above". `steps` is a list of
    {"kind": "individual", "level": 2, "label": "...", "deadline_hours": 48,
     "remind_after_hours": 24} or {"kind": "committee", "committee": "branch", ...}.
    """

    policy_version_field = "matrix"

    matrix = models.ForeignKey(AuthorityMatrix, on_delete=models.CASCADE, related_name="rules",
                               verbose_name=_("matrix"))
    row = models.PositiveIntegerField(_("row"))
    product = models.ForeignKey("products.CreditProduct", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    amount_above = MoneyField(_("amount above"), default=0)
    amount_up_to = MoneyField(_("amount up to"), null=True, blank=True)
    grades = models.JSONField(_("risk grades"), default=list)
    policy_exception = models.BooleanField(_("policy exception present"), default=False)
    steps = models.JSONField(_("route steps"), default=list)
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    source_citation = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["matrix", "row"]
        verbose_name = _("authority rule")
        verbose_name_plural = _("authority rules")
        constraints = [
            models.UniqueConstraint(fields=["matrix", "row"], name="approvals_rule_row_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.matrix_id}#{self.row}"


class Committee(TimeStampedModel):
    """A credit committee (贷审会, §6.2): its member pool, quorum and pass rule are data."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    scope = models.CharField(_("scope"), max_length=20, choices=CommitteeScope.choices)
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    quorum = models.PositiveSmallIntegerField(
        _("quorum"), help_text=_("Votes needed before the vote can close."))
    pass_rule = models.CharField(_("pass rule"), max_length=30, choices=PassRule.choices)
    source_citation = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("credit committee")
        verbose_name_plural = _("credit committees")
        constraints = [models.CheckConstraint(condition=models.Q(quorum__gte=1),
                                              name="approvals_committee_quorum_positive")]

    def __str__(self) -> str:
        return self.name


class CommitteeMember(models.Model):
    """A seat in the committee's pool; the chair runs the session but has one vote like all."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="seats",
                                  verbose_name=_("committee"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="committee_seats", verbose_name=_("member"))
    is_chair = models.BooleanField(_("chair"), default=False)

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        constraints = [models.UniqueConstraint(fields=["committee", "user"],
                                               name="approvals_one_seat_per_member")]

    def __str__(self) -> str:
        return f"{self.committee_id}:{self.user_id}"


class CommitteeSession(TimeStampedModel):
    """A meeting of a committee; its agenda is the committee steps placed on it."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="sessions",
                                  verbose_name=_("committee"))
    scheduled_for = models.DateTimeField(_("scheduled for"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))

    class Meta:
        ordering = ["-scheduled_for"]
        verbose_name = _("committee session")
        verbose_name_plural = _("committee sessions")

    def __str__(self) -> str:
        return f"{self.committee.code} {self.scheduled_for:%Y-%m-%d %H:%M}"


# --- review and exceptions ---------------------------------------------------------------------

class ReviewOpinion(TimeStampedModel):
    """The independent reviewer's structured opinion (审查意见, §2.3 REVIEW).

    An opinion that sends the file on is consumed by the route it started (`route`); the
    "send to approval" guard asks for an unconsumed one, so nobody sends a file on without one.
    """

    class Outcome(models.TextChoices):
        SEND_TO_APPROVAL = "send_to_approval", _("Send to approval")
        RETURN = "return", _("Return for rework")

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="review_opinions",
                                    verbose_name=_("application"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("reviewer"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    risks = models.TextField(_("risks found"), blank=True)
    mitigations = models.TextField(_("mitigations"), blank=True)
    proposed_amount = MoneyField(_("proposed amount"), null=True, blank=True)
    proposed_term_months = models.PositiveSmallIntegerField(_("proposed term (months)"),
                                                            null=True, blank=True)
    proposed_rate = models.DecimalField(_("proposed annual rate (%)"), max_digits=6,
                                        decimal_places=3, null=True, blank=True)
    collateral = models.TextField(_("collateral"), blank=True)
    conditions = models.JSONField(_("conditions proposed"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    route = models.OneToOneField("ApprovalRoute", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="opinion", verbose_name=_("route started"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review opinion")
        verbose_name_plural = _("review opinions")

    def __str__(self) -> str:
        return f"{self.application_id}:{self.outcome}"


class PolicyException(TimeStampedModel):
    """A declared departure from product policy or the score recommendation (§6.5): it forces
    the exception route of the matrix for the round in which it was declared."""

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="policy_exceptions",
                                    verbose_name=_("application"))
    rule = models.CharField(_("rule departed from"), max_length=200)
    actual_value = models.CharField(_("actual value"), max_length=200, blank=True)
    reason = models.TextField(_("justification"))
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("declared by"))
    route = models.ForeignKey("ApprovalRoute", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="policy_exceptions", verbose_name=_("route"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("policy exception")
        verbose_name_plural = _("policy exceptions")

    def __str__(self) -> str:
        return self.rule


# --- routes, steps, signatures -----------------------------------------------------------------

class ApprovalRoute(WorkflowModel):
    """The steps that must sign one application in one round, frozen from the matrix."""

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="approval_routes",
                                    verbose_name=_("application"))
    round = models.PositiveSmallIntegerField(_("round"))
    matrix = models.ForeignKey(AuthorityMatrix, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("matrix"))
    rule = models.ForeignKey(AuthorityRule, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("rule"))
    amount_basis = MoneyField(_("amount measured (group exposure)"))
    grade = models.CharField(_("risk grade"), max_length=20)
    policy_exception = models.BooleanField(_("policy exception"), default=False)
    state = FSMField(_("state"), default=RouteState.IN_PROGRESS, choices=RouteState.choices,
                     protected=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["application", "-round"]
        verbose_name = _("approval route")
        verbose_name_plural = _("approval routes")
        constraints = [
            models.UniqueConstraint(fields=["application", "round"],
                                    name="approvals_route_round_unique"),
            models.UniqueConstraint(fields=["application"],
                                    condition=models.Q(state=RouteState.IN_PROGRESS),
                                    name="approvals_one_open_route"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} r{self.round}"

    @transition(field=state, source=RouteState.IN_PROGRESS, target=RouteState.APPROVED)
    def approve(self, *, at) -> None:
        """Every step signed 'approve'."""
        self.completed_at = at

    @transition(field=state, source=RouteState.IN_PROGRESS, target=RouteState.REJECTED)
    def reject(self, *, at) -> None:
        """A step rejected: the application is declined."""
        self.completed_at = at

    @transition(field=state, source=RouteState.IN_PROGRESS, target=RouteState.RETURNED)
    def send_back(self, *, at) -> None:
        """A step returned the file for rework: the next round gets a fresh route."""
        self.completed_at = at


class ApprovalStep(WorkflowModel):
    """One level of a route. Exactly one step waits at a time; signatures lock its row."""

    route = models.ForeignKey(ApprovalRoute, on_delete=models.CASCADE, related_name="steps",
                              verbose_name=_("route"))
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices)
    level = models.PositiveSmallIntegerField(_("authority level required"), null=True,
                                             blank=True)
    committee = models.ForeignKey(Committee, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="steps", verbose_name=_("committee"))
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200, blank=True)
    deadline_hours = models.PositiveIntegerField(_("deadline (hours)"))
    remind_after_hours = models.PositiveIntegerField(_("reminder after (hours)"))
    state = FSMField(_("state"), default=StepState.PENDING, choices=StepState.choices,
                     protected=True, db_index=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True, db_index=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("signers notified at"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # Stamped once when fewer eligible members than the quorum remain (the vote could never
    # close): the claim that makes the team-lead alert go out once, and the inbox's marker.
    quorum_impossible_at = models.DateTimeField(_("quorum found impossible at"), null=True,
                                                blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    session = models.ForeignKey(CommitteeSession, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="agenda",
                                verbose_name=_("committee session"))
    # The route's amount, copied when the route is frozen (route_resolve; the route's amount
    # never changes after): the inbox sorts waiting steps by it through its own index, reading
    # only a page's rows instead of joining and sorting every waiting file.
    amount_basis = MoneyField(_("amount measured (group exposure)"))

    class Meta:
        ordering = ["route", "position"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        constraints = [models.UniqueConstraint(fields=["route", "position"],
                                               name="approvals_step_position_unique")]
        # The inbox's sort orders over waiting steps only (a few thousand rows however many
        # steps the bank has signed), each ending on the id as the inbox's orderings do: a
        # page is an index walk that stops after the page.
        indexes = [
            models.Index(fields=["state", "kind", "level"]),
            models.Index(fields=["opened_at", "id"], condition=models.Q(state=StepState.WAITING),
                         name="approvals_step_waiting_opened"),
            models.Index(fields=["due_at", "id"], condition=models.Q(state=StepState.WAITING),
                         name="approvals_step_waiting_due"),
            models.Index(fields=["amount_basis", "id"], condition=models.Q(state=StepState.WAITING),
                         name="approvals_step_waiting_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.route_id}.{self.position}"

    @property
    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") and self.label_zh \
            else self.label_en

    @transition(field=state, source=StepState.PENDING, target=StepState.WAITING)
    def open(self, *, at, due_at, remind_at) -> None:
        """The step's turn: its signers are notified and its deadline runs."""
        self.opened_at, self.due_at, self.remind_at = at, due_at, remind_at

    @transition(field=state, source=StepState.WAITING, target=StepState.APPROVED)
    def approve(self, *, at) -> None:
        """Signed (or voted) in favour."""
        self.completed_at = at

    @transition(field=state, source=StepState.WAITING, target=StepState.REJECTED)
    def reject(self, *, at) -> None:
        """Signed (or voted) against."""
        self.completed_at = at

    @transition(field=state, source=StepState.WAITING, target=StepState.RETURNED)
    def send_back(self, *, at) -> None:
        """Returned for rework by the signer."""
        self.completed_at = at

    @transition(field=state, source=StepState.PENDING, target=StepState.SKIPPED)
    def skip(self) -> None:
        """An earlier step ended the route; this level was never reached."""


class Delegation(TimeStampedModel):
    """An approver's authority lent to a colleague for an absence: explicit, dated, revocable
    (§6.1 overlay: "delegations are personal, dated and revocable"). The delegate signs with the
    delegator's level, and the sign-off records the delegation it relied on."""

    delegator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="delegations_given", verbose_name=_("delegator"))
    delegate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="delegations_received", verbose_name=_("delegate"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("granted by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("revoked by"))

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("delegation of authority")
        verbose_name_plural = _("delegations of authority")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="approvals_delegation_time_boxed"),
            models.CheckConstraint(condition=~models.Q(delegator=models.F("delegate")),
                                   name="approvals_delegation_to_another"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator_id}→{self.delegate_id}"


class SignOff(models.Model):
    """An individual step's one decision, signed (HMAC-SHA256 over the canonical content).

    The one-to-one on `step` is the database's word that exactly one signature counts; the
    unique (route, signer) that nobody signs two levels of one route.
    """

    step = models.OneToOneField(ApprovalStep, on_delete=models.PROTECT, related_name="sign_off",
                                verbose_name=_("step"))
    route = models.ForeignKey(ApprovalRoute, on_delete=models.PROTECT, related_name="sign_offs",
                              verbose_name=_("route"))
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("signer"))
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("on behalf of"))
    delegation = models.ForeignKey(Delegation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="sign_offs", verbose_name=_("delegation"))
    authority_level = models.PositiveSmallIntegerField(_("authority level used"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    amount = MoneyField(_("amount approved"), null=True, blank=True)
    rate = models.DecimalField(_("annual rate (%)"), max_digits=6, decimal_places=3, null=True,
                               blank=True)
    conditions = models.JSONField(_("conditions added"), default=list, blank=True)
    reason = models.TextField(_("reasons"))
    signed_at = models.DateTimeField(_("signed at"))
    content = models.JSONField(_("signed content"))
    signature = models.CharField(_("signature (HMAC-SHA256)"), max_length=64)

    class Meta:
        ordering = ["signed_at"]
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        constraints = [models.UniqueConstraint(fields=["route", "signer"],
                                               name="approvals_one_signature_per_person")]

    def __str__(self) -> str:
        return f"{self.step_id}:{self.decision}"


class Vote(models.Model):
    """A committee member's named ballot (记名投票) and opinion; sealed until the vote closes.
    A vote against the outcome is the member's recorded dissent."""

    step = models.ForeignKey(ApprovalStep, on_delete=models.PROTECT, related_name="votes",
                             verbose_name=_("step"))
    route = models.ForeignKey(ApprovalRoute, on_delete=models.PROTECT, related_name="votes",
                              verbose_name=_("route"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("member"))
    choice = models.CharField(_("vote"), max_length=10, choices=VoteChoice.choices)
    opinion = models.TextField(_("opinion"), blank=True)
    cast_at = models.DateTimeField(_("cast at"))
    is_dissent = models.BooleanField(_("dissent"), default=False)
    content = models.JSONField(_("signed content"))
    signature = models.CharField(_("signature (HMAC-SHA256)"), max_length=64)

    class Meta:
        ordering = ["cast_at", "id"]
        verbose_name = _("committee vote")
        verbose_name_plural = _("committee votes")
        constraints = [models.UniqueConstraint(fields=["step", "member"],
                                               name="approvals_one_vote_per_member"),
                       models.UniqueConstraint(fields=["route", "member"],
                                               name="approvals_one_level_per_member")]

    def __str__(self) -> str:
        return f"{self.step_id}:{self.member_id}"


class ConditionPrecedent(WorkflowModel):
    """A condition to be met before contracting (放款前提条件, §6.3), with its evidence."""

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="conditions_precedent",
                                    verbose_name=_("application"))
    route = models.ForeignKey(ApprovalRoute, on_delete=models.PROTECT, related_name="conditions",
                              verbose_name=_("route"))
    text = models.CharField(_("condition"), max_length=500)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("set by"))
    state = FSMField(_("state"), default=ConditionState.OPEN, choices=ConditionState.choices,
                     protected=True)
    satisfied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("satisfied by"))
    satisfied_at = models.DateTimeField(_("satisfied at"), null=True, blank=True)
    evidence_note = models.TextField(_("evidence"), blank=True)
    evidence_document = models.ForeignKey("documents.Document", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("evidence document"))

    class Meta:
        ordering = ["route", "id"]
        verbose_name = _("condition precedent")
        verbose_name_plural = _("conditions precedent")

    def __str__(self) -> str:
        return self.text

    @transition(field=state, source=ConditionState.OPEN, target=ConditionState.SATISFIED)
    def satisfy(self, *, by, at, note, document) -> None:
        """Met, with the evidence that shows it."""
        self.satisfied_by, self.satisfied_at = by, at
        self.evidence_note, self.evidence_document = note, document
