"""Post-loan inspections (贷后检查) on the checklist engine (domain reference §4.1, §4.2).

An inspection is one checklist run about one loan: it binds a published `ChecklistTemplate`
of the investigation engine (sections, items, answer types, evidence, rules, cross-checks) to a
`Loan` instead of an application, and stores answers in the same shape as the investigation's
(`InspectionAnswer` mirrors `investigations.Answer`), so the engine's answer cleaning, rule
evaluation and photo controls run on it unchanged.

Each inspection is due on a date computed from policy (`apps.monitoring.schedule_policy`); the
policy values used are recorded on the row so the due date can be re-explained later (§0.2).
`schedule_key` makes generation idempotent: one row per (loan, key), whoever runs it.

Transitions only set fields on the instance; services lock, check, audit (CONVENTIONS §3).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import WorkflowModel
from apps.monitoring.inspection_states import (
    Cooperation,
    InspectionKind,
    InspectionState,
    ProposedClass,
    RequestedAction,
)

__all__ = ["Inspection", "InspectionAnswer"]


def inspecting_officer(inspection: "Inspection", user) -> bool:
    """Only the officer the inspection is assigned to does it (the loan's post-loan officer)."""
    return user is not None and user.pk == inspection.officer_id


def second_person_reviewer(inspection: "Inspection", user) -> bool:
    """Four-eyes: a team lead or risk reviewer who neither did nor submitted the inspection.
    No super-user bypass."""
    from apps.accounts.roles import Role

    return (user is not None and user.is_authenticated
            and user.has_role(Role.TEAM_LEAD, Role.RISK_REVIEWER)
            and user.pk not in (inspection.officer_id, inspection.submitted_by_id))


class Inspection(WorkflowModel):
    """One post-loan inspection of one loan, due on a policy-derived date."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT, related_name="inspections",
                             verbose_name=_("loan"))
    # Copied from the loan for scoping, lists and audit scope without joins.
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    kind = models.CharField(_("type"), max_length=10, choices=InspectionKind.choices)
    # "m1", "m4", "m2:2026-03-15", "special:<reason key>": one row per key and loan.
    schedule_key = models.CharField(_("schedule key"), max_length=80)
    template = models.ForeignKey("investigations.ChecklistTemplate", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("checklist template"))
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("inspecting officer"))
    state = FSMField(_("state"), default=InspectionState.SCHEDULED,
                     choices=InspectionState.choices, protected=True, db_index=True)
    due_date = models.DateField(_("due date"), db_index=True)
    reason = models.TextField(_("reason"), blank=True,
                              help_text=_("Why a special check was requested."))
    # {"key": {"value": "15", "version": 1}} of every policy value the due date came from.
    policy_basis = models.JSONField(_("policy values used"), default=dict, blank=True)

    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reviewed by"))
    review_note = models.TextField(_("review note"), blank=True)
    red_flags = models.JSONField(_("red flags"), default=list, blank=True)
    cross_check_findings = models.JSONField(_("cross-check findings"), default=list, blank=True)

    # The conclusion (§4.2 "structured conclusion"), set on submit and confirmed on review.
    proposed_class = models.CharField(_("proposed classification"), max_length=20,
                                      choices=ProposedClass.choices, blank=True)
    class_reason = models.TextField(_("reason for the classification"), blank=True)
    actions = models.JSONField(_("actions requested"), default=list, blank=True)
    funds_used_as_agreed = models.BooleanField(_("funds used for the agreed purpose"),
                                               null=True, blank=True)  # N → W17
    cooperation = models.CharField(_("cooperation"), max_length=20, choices=Cooperation.choices,
                                   blank=True)  # uncooperative → W18
    next_inspection_date = models.DateField(_("next inspection"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("post-loan inspection")
        verbose_name_plural = _("post-loan inspections")
        indexes = [models.Index(fields=["officer", "state", "due_date"],
                                name="mon_inspection_officer_due"),
                   models.Index(fields=["state", "due_date"], name="mon_inspection_due")]
        constraints = [
            models.UniqueConstraint(fields=["loan", "schedule_key"],
                                    name="monitoring_inspection_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind} {self.due_date}"

    @property
    def done_on_time(self) -> bool | None:
        """Submitted by the due date (§4.5 on-time checks); None while not submitted."""
        if self.submitted_at is None:
            return None
        from django.utils import timezone

        return timezone.localdate(self.submitted_at) <= self.due_date

    @property
    def action_labels(self) -> list:
        """The requested actions in words (codes stay codes in the data)."""
        return [RequestedAction(a).label for a in self.actions or []
                if a in RequestedAction.values]

    @property
    def is_editable(self) -> bool:
        return self.started_at is not None and self.state in (InspectionState.IN_PROGRESS,
                                                              InspectionState.OVERDUE)

    # --- transitions: fields on self only; the services do the rest ------------------------

    @transition(field=state, source=[InspectionState.SCHEDULED, InspectionState.OVERDUE],
                target=InspectionState.IN_PROGRESS, permission=inspecting_officer,
                conditions=[lambda i: i.started_at is None])
    def start(self, *, at) -> None:
        """The officer opens the form on site; answers may now be saved."""
        self.started_at = at

    @transition(field=state, source=[InspectionState.SCHEDULED, InspectionState.IN_PROGRESS],
                target=InspectionState.OVERDUE)
    def mark_overdue(self, *, at) -> None:
        """The due date passed before submission (the daily sweep). Still completable; a
        missed deadline is itself a signal and is escalated once (§4.1)."""
        self.overdue_at = at

    @transition(field=state, source=[InspectionState.IN_PROGRESS, InspectionState.OVERDUE],
                target=InspectionState.SUBMITTED, permission=inspecting_officer,
                conditions=[lambda i: i.started_at is not None])
    def submit(self, *, by, at, red_flags, cross_check_findings, conclusion: dict) -> None:
        """Complete (the service has checked what is missing); findings and the officer's
        conclusion are frozen for the reviewer."""
        self.submitted_by, self.submitted_at = by, at
        self.red_flags, self.cross_check_findings = red_flags, cross_check_findings
        for name, value in conclusion.items():
            setattr(self, name, value)

    @transition(field=state, source=InspectionState.SUBMITTED,
                target=InspectionState.REVIEWED, permission=second_person_reviewer)
    def review(self, *, by, at, note: str, conclusion: dict) -> None:
        """A second person confirms (or corrects) the conclusion."""
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note
        for name, value in conclusion.items():
            setattr(self, name, value)

    @transition(field=state, source=InspectionState.SUBMITTED,
                target=InspectionState.IN_PROGRESS, permission=second_person_reviewer)
    def return_for_correction(self, *, by, at, note: str) -> None:
        """Back to the officer with the reviewer's note (退回补正); the submission time is
        cleared, so on-time is judged on the corrected submission."""
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note
        self.submitted_at = None


class InspectionAnswer(models.Model):
    """One answer to one checklist item, in the investigation engine's shape (value, evidence,
    N/A with reason, version for optimistic concurrency)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="answers",
                                   verbose_name=_("inspection"))
    item = models.ForeignKey("investigations.Item", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("item"))
    value = models.JSONField(_("value"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    na_reason = models.TextField(_("reason not applicable"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("answered by"))
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["inspection", "item__section__order", "item__order"]
        verbose_name = _("inspection answer")
        verbose_name_plural = _("inspection answers")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"],
                                    name="monitoring_one_answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version}"
