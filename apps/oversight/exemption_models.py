"""Due-diligence exemption cases (尽职免责, domain reference §4.6, §6.4).

A case bundles a bad loan, the incident, the evidence pack frozen as it stood when the case
opened (with the duty-rule and policy versions in force when the loan was handled), the staff
involved with their tier decisions, the appeal and a 365-day deadline (policy data). The
appeal can confirm or lighten a tier, never worsen it (金规〔2024〕11号): the transition refuses
and a database constraint backs it up.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.roles import Role
from apps.core.models import TimeStampedModel, WorkflowModel
from apps.oversight.exemption_states import ExemptionCaseState as S
from apps.oversight.exemption_states import Incident, Tier, tier_not_worse


def is_exemption_committee(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.has_role(Role.EXEMPTION_COMMITTEE))


def committee_member_not_under_review(case: "ExemptionCase", user) -> bool:
    """Exemption decisions: a committee member who is not one of the people the case judges
    (nobody decides their own case). No superuser bypass."""
    return is_exemption_committee(user) and user.pk not in case.person_user_ids()


def appeal_reviewer_independent(case: "ExemptionCase", user) -> bool:
    """§6.4 four-eyes: the appeal reviewer is a committee member who neither took the first
    decision nor is under review in this case."""
    return (committee_member_not_under_review(case, user)
            and user.pk != case.decided_by_id)


def person_under_review(case: "ExemptionCase", user) -> bool:
    """An appeal (申诉) is lodged by one of the people the decision is about."""
    return user is not None and user.is_authenticated and user.pk in case.person_user_ids()


def system_or_committee(case: "ExemptionCase", user) -> bool:
    """The daily sweep (user None) or an independent committee member closes a case."""
    return user is None or committee_member_not_under_review(case, user)


class AppealWouldWorsen(ValidationError):
    """An appeal outcome more severe than the first decision (金规〔2024〕11号 forbids it)."""


class ExemptionBatch(TimeStampedModel):
    """One committee decision applied to many small, clearly attributable loans (batch
    diligence report, §4.6). Each case keeps its own frozen evidence pack."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    reason = models.TextField(_("reasons"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    max_principal = models.DecimalField(_("principal limit applied"), max_digits=18,
                                        decimal_places=2)
    policy_version = models.PositiveIntegerField(_("limit policy version"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("exemption batch decision")
        verbose_name_plural = _("exemption batch decisions")

    def __str__(self) -> str:
        return f"batch {self.pk}: {self.tier}"


class ExemptionCase(WorkflowModel):
    """One review of whether the staff who handled a bad loan did their duty."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT,
                             related_name="exemption_cases", verbose_name=_("loan"))
    # Copied from the loan for scoping and the audit trail (application's trail and branch).
    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    state = FSMField(_("state"), default=S.OPENED, choices=S.choices, protected=True,
                     db_index=True)
    incident = models.CharField(_("incident"), max_length=20, choices=Incident.choices)
    incident_note = models.TextField(_("incident details"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("opened by (empty: the daily sweep)"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    deadline_at = models.DateTimeField(_("review deadline"), db_index=True)
    deadline_policy_version = models.PositiveIntegerField(_("deadline policy version"))
    overdue_at = models.DateTimeField(_("found overdue at"), null=True, blank=True)
    # The pack as it stood at opening, canonical JSON, and its SHA-256: never rewritten.
    handled_on = models.DateField(_("loan handled on"))
    rule_set_version = models.PositiveIntegerField(_("duty rules version"), null=True,
                                                   blank=True)
    policy_versions = models.JSONField(_("policy versions in force"), default=dict)
    pack = models.JSONField(_("frozen evidence pack"), default=dict)
    pack_sha256 = models.CharField(_("SHA-256 of the pack"), max_length=64)
    review_started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("review started by"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_summary = models.TextField(_("committee's reasons"), blank=True)
    batch = models.ForeignKey(ExemptionBatch, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="cases", verbose_name=_("batch decision"))
    appeal_window_ends_at = models.DateTimeField(_("appeals accepted until"), null=True,
                                                 blank=True)
    appeal_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("appeal decided by"))
    appeal_decided_at = models.DateTimeField(_("appeal decided at"), null=True, blank=True)
    appeal_summary = models.TextField(_("appeal reviewer's reasons"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["deadline_at", "id"]
        verbose_name = _("exemption case")
        verbose_name_plural = _("exemption cases")
        indexes = [models.Index(fields=["branch", "state"])]
        constraints = [
            # Idempotent opening: one case per loan still being worked.
            models.UniqueConstraint(fields=["loan"], condition=~Q(state=S.CLOSED),
                                    name="oversight_one_open_exemption_case_per_loan"),
        ]

    def __str__(self) -> str:
        return f"EX-{self.pk}"

    def person_user_ids(self) -> set[int]:
        """Everyone the case judges (cached per instance: permission checks ask often)."""
        if not hasattr(self, "_person_user_ids"):
            self._person_user_ids = set(self.people.values_list("user_id", flat=True))
        return self._person_user_ids

    @property
    def is_overdue(self) -> bool:
        """Past the review deadline (flagged by the sweep, or due now) and still open."""
        return self.state != S.CLOSED and (self.overdue_at is not None
                                           or self.deadline_at <= timezone.now())

    @transition(field=state, source=S.OPENED, target=S.UNDER_REVIEW,
                permission=committee_member_not_under_review)
    def start_review(self, *, by) -> None:
        """The exemption committee takes the case up."""
        self.review_started_by = by

    @transition(field=state, source=S.UNDER_REVIEW, target=S.DECIDED,
                permission=committee_member_not_under_review)
    def decide(self, *, by, summary: str, appeal_window_ends_at, batch=None) -> None:
        """The committee's tier decision for every person (rows written by the service)."""
        self.decided_by, self.decided_at = by, timezone.now()
        self.decision_summary, self.batch = summary, batch
        self.appeal_window_ends_at = appeal_window_ends_at

    @transition(field=state, source=[S.DECIDED, S.APPEALED], target=S.APPEALED,
                permission=person_under_review)
    def appeal(self, *, by) -> None:
        """A person under review appeals (申诉) their tier; further appeals join the first."""

    @transition(field=state, source=S.APPEALED, target=S.APPEAL_DECIDED,
                permission=appeal_reviewer_independent)
    def decide_appeal(self, *, by, summary: str, outcomes: dict[int, tuple[str, str]]) -> None:
        """Confirm or lighten each appealed tier. `outcomes` maps person id → (original tier,
        outcome); any outcome more severe than its original refuses the whole move."""
        worse = [pid for pid, (original, outcome) in outcomes.items()
                 if not tier_not_worse(outcome, original)]
        if worse:
            raise AppealWouldWorsen(_("An appeal may confirm or lighten a decision, never "
                                      "make it more severe."), code="appeal_would_worsen")
        self.appeal_decided_by, self.appeal_decided_at = by, timezone.now()
        self.appeal_summary = summary

    @transition(field=state, source=[S.DECIDED, S.APPEAL_DECIDED], target=S.CLOSED,
                permission=system_or_committee)
    def close(self, *, at) -> None:
        """Closed once the appeal is decided, or the appeal window passed without one."""
        self.closed_at = at


class ExemptionPerson(models.Model):
    """One member of staff the case judges: their role and stage, duties, dissent, tier."""

    case = models.ForeignKey(ExemptionCase, on_delete=models.CASCADE, related_name="people",
                             verbose_name=_("case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("person"))
    # [{"stage": "...", "role": "...", "what": "..."}]: one person may act at several stages.
    involvements = models.JSONField(_("roles and stages"), default=list)
    dissent = models.JSONField(_("written dissent"), default=list, blank=True)
    proposed_tier = models.CharField(_("proposed tier"), max_length=10, choices=Tier.choices,
                                     blank=True)
    tier = models.CharField(_("tier decided"), max_length=10, choices=Tier.choices,
                            blank=True)
    reason = models.TextField(_("reasons"), blank=True)
    relied_on = models.TextField(_("rules and evidence relied on"), blank=True)
    appealed_at = models.DateTimeField(_("appealed at"), null=True, blank=True)
    appeal_grounds = models.TextField(_("grounds of appeal"), blank=True)
    appeal_outcome = models.CharField(_("tier after appeal"), max_length=10,
                                      choices=Tier.choices, blank=True)
    appeal_reason = models.TextField(_("appeal reasons"), blank=True)

    class Meta:
        ordering = ["case", "id"]
        verbose_name = _("person under exemption review")
        verbose_name_plural = _("people under exemption review")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"],
                                    name="oversight_exemption_person_once"),
            # The appeal rule, again in the database: never more severe than the decision.
            models.CheckConstraint(
                condition=~(Q(tier=Tier.FULL) & Q(appeal_outcome__in=[Tier.REDUCED, Tier.NONE]))
                & ~(Q(tier=Tier.REDUCED) & Q(appeal_outcome=Tier.NONE))
                & ~(Q(tier="") & ~Q(appeal_outcome="")),
                name="oversight_exemption_appeal_never_worse"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.user_id}"

    @property
    def final_tier(self) -> str:
        return self.appeal_outcome or self.tier

    def get_final_tier_display(self) -> str:
        return str(Tier(self.final_tier).label) if self.final_tier else ""
