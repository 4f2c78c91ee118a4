"""Loan covenants, their periodic checks, and annual reviews (domain reference §6.3, §4.1).

- `Covenant`: one undertaking of the borrower on one loan, copied from the signed contract's
  approval conditions or added by a post-loan officer; its kind sets the test frequency
  (policy data).
- `CovenantCheck`: one test of a covenant, due on a policy-derived date: the officer submits
  the result with evidence (document references and a note), a second person accepts it or
  confirms the breach; a breach raises signal W25 (the level → actions flow then applies).
- `AnnualReview`: one per loan and loan year, due a policy lead time before each anniversary
  of the value date.

Both workflows are django-fsm-2 machines. Transitions set fields on the instance only; the
services in `covenant_services` lock, check, audit and notify (CONVENTIONS §3). The sweep
stamps `reminded_at` / `escalated_at` so reruns notify once.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import WorkflowModel
from apps.monitoring.covenant_states import (
    OPEN_CHANGE_STATES,
    AnnualReviewState,
    CovenantChangeKind,
    CovenantChangeState,
    CovenantCheckState,
    CovenantKind,
    CovenantResult,
    CovenantSource,
    CovenantState,
    NoticeKind,
    ReviewOutcome,
)
from apps.monitoring.permissions import in_branch, may_work_loan

__all__ = ["AnnualReview", "Covenant", "CovenantChange", "CovenantCheck", "MonitoringNotice"]

CC, AR, CS, CH = CovenantCheckState, AnnualReviewState, CovenantState, CovenantChangeState


def second_person(record, user) -> bool:
    """Four-eyes: a team lead or risk reviewer of the branch who did not submit it. No
    super-user bypass."""
    from apps.accounts.roles import Role

    return (in_branch(user, record.branch_id) and user.has_role(Role.TEAM_LEAD,
                                                                Role.RISK_REVIEWER)
            and user.pk != record.submitted_by_id)


class DueWork(WorkflowModel):
    """What a covenant check and an annual review share: a due date from policy, the
    reminder and escalation stamps, the officer's submission and the second person's
    decision."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("loan"))
    # Copied from the loan for scoping, lists and the audit scope without joins.
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    due_date = models.DateField(_("due date"), db_index=True)
    # {"key": {"value": "3", "version": 1}} of every policy value the dates came from.
    policy_basis = models.JSONField(_("policy values used"), default=dict, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    note = models.TextField(_("officer's note"), blank=True)
    # Documents of the loan's file cited as evidence (ids of documents.Document).
    evidence_documents = models.JSONField(_("evidence documents"), default=list, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True

    @property
    def done_on_time(self) -> bool | None:
        if self.submitted_at is None:
            return None
        from django.utils import timezone

        return timezone.localdate(self.submitted_at) <= self.due_date


def change_checker(change, user) -> bool:
    """Four-eyes on a covenant change (§6.4 "requester ≠ approver"): a team lead or risk
    reviewer of the branch who did not propose it. No super-user bypass."""
    from apps.accounts.roles import Role

    return (in_branch(user, change.branch_id) and user.has_role(Role.TEAM_LEAD,
                                                                Role.RISK_REVIEWER)
            and user.pk != change.proposed_by_id)


def change_proposer(change, user) -> bool:
    """Only whoever proposed a change may withdraw it."""
    return user is not None and user.pk == change.proposed_by_id


class Covenant(WorkflowModel):
    """One undertaking of the borrower on one loan (§6.3): tested at its kind's frequency
    while active; amended, waived for a period or ended only through an approved
    `CovenantChange` (four-eyes). `active` mirrors `state == active` for the schedulers."""

    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT, related_name="covenants",
                             verbose_name=_("loan"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    kind = models.CharField(_("kind"), max_length=20, choices=CovenantKind.choices)
    text = models.TextField(_("covenant"))
    source = models.CharField(_("source"), max_length=10, choices=CovenantSource.choices)
    # "contract:0" (position in the contract's covenants) or "officer:<uuid>": idempotent import.
    source_ref = models.CharField(_("source reference"), max_length=60)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("added by"))
    starts_on = models.DateField(_("tested from"))
    active = models.BooleanField(_("active"), default=True)
    state = FSMField(_("state"), default=CS.ACTIVE, choices=CS.choices, protected=True)
    # Last day of the waiver in force (inclusive); testing resumes the day after.
    waived_until = models.DateField(_("waived until"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["loan", "id"]
        verbose_name = _("loan covenant")
        verbose_name_plural = _("loan covenants")
        constraints = [models.UniqueConstraint(fields=["loan", "source_ref"],
                                               name="monitoring_covenant_once")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind}: {self.text[:40]}"

    @transition(field=state, source=CS.ACTIVE, target=CS.WAIVED)
    def waive(self, *, until) -> None:
        """An approved waiver took effect: not tested through `until` (inclusive)."""
        self.waived_until, self.active = until, False

    @transition(field=state, source=CS.WAIVED, target=CS.ACTIVE)
    def reinstate(self) -> None:
        """The sweep: the waiver's last day has passed; testing resumes (`waived_until` is
        kept, so the next check is not owed for the waived period)."""
        self.active = True

    @transition(field=state, source=[CS.ACTIVE, CS.WAIVED], target=CS.ENDED)
    def end(self, *, on) -> None:
        """An approved end took effect: never tested from `on` (inclusive)."""
        self.ended_on, self.active = on, False


class CovenantCheck(DueWork):
    """One test of one covenant, due on a policy-derived date."""

    covenant = models.ForeignKey(Covenant, on_delete=models.PROTECT, related_name="checks",
                                 verbose_name=_("covenant"))
    state = FSMField(_("state"), default=CC.SCHEDULED, choices=CC.choices, protected=True,
                     db_index=True)
    result = models.CharField(_("result"), max_length=10, choices=CovenantResult.choices,
                              blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("covenant check")
        verbose_name_plural = _("covenant checks")
        indexes = [models.Index(fields=["state", "due_date"], name="mon_covcheck_due")]
        constraints = [models.UniqueConstraint(fields=["covenant", "due_date"],
                                               name="monitoring_covenant_check_once")]

    def __str__(self) -> str:
        return f"{self.covenant_id} {self.due_date} {self.state}"

    @transition(field=state, source=CC.SCHEDULED, target=CC.DUE)
    def mark_due(self, *, at) -> None:
        """The sweep: the reminder window opened (policy days before the due date)."""
        self.reminded_at = at

    @transition(field=state, source=[CC.SCHEDULED, CC.DUE], target=CC.OVERDUE)
    def mark_overdue(self, *, at) -> None:
        """The sweep: the due date passed without a submission (still submittable)."""
        self.overdue_at = at

    @transition(field=state, source=[CC.SCHEDULED, CC.DUE, CC.OVERDUE], target=CC.SUBMITTED,
                permission=may_work_loan)
    def submit(self, *, by, at, result: str, note: str, documents: list[int]) -> None:
        """The officer records what the test found, with the evidence."""
        self.submitted_by, self.submitted_at = by, at
        self.result, self.note, self.evidence_documents = result, note, documents

    @transition(field=state, source=CC.SUBMITTED, target=CC.ACCEPTED, permission=second_person)
    def accept(self, *, by, at, note: str) -> None:
        """A second person agrees the covenant was complied with."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note
        self.result = CovenantResult.COMPLIED

    @transition(field=state, source=CC.SUBMITTED, target=CC.BREACHED, permission=second_person)
    def confirm_breach(self, *, by, at, note: str) -> None:
        """A second person confirms a breach (whatever the officer reported): W25 follows."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note
        self.result = CovenantResult.BREACHED

    @transition(field=state, source=[CC.SCHEDULED, CC.DUE, CC.OVERDUE], target=CC.CANCELLED)
    def cancel(self, *, at, note: str) -> None:
        """A waiver or an end of the covenant took effect on or before the due date: the
        test is no longer owed (a submitted check is decided as usual)."""
        self.decided_at, self.decision_note = at, note


class CovenantChange(WorkflowModel):
    """A proposed amendment, waiver or end of one covenant (§6.3 "breach → waiver or action
    workflow"): a post-loan officer proposes it with a reason and a start day, a second
    person approves or rejects it (§6.4), and it takes effect on its start day, inclusive.
    At most one open (proposed or approved) change per covenant."""

    covenant = models.ForeignKey(Covenant, on_delete=models.PROTECT, related_name="changes",
                                 verbose_name=_("covenant"))
    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("loan"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    kind = models.CharField(_("change"), max_length=10, choices=CovenantChangeKind.choices)
    state = FSMField(_("state"), default=CH.PROPOSED, choices=CH.choices, protected=True,
                     db_index=True)
    effective_from = models.DateField(_("takes effect on"))
    waived_until = models.DateField(_("waived until"), null=True, blank=True)
    new_kind = models.CharField(_("new kind"), max_length=20, choices=CovenantKind.choices,
                                blank=True)
    new_text = models.TextField(_("new wording"), blank=True)
    # What the covenant said before an amendment took effect (the record of the old terms).
    previous = models.JSONField(_("previous terms"), default=dict, blank=True)
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("proposed by"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    in_effect_at = models.DateTimeField(_("took effect at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("covenant change")
        verbose_name_plural = _("covenant changes")
        constraints = [models.UniqueConstraint(
            fields=["covenant"], condition=models.Q(state__in=OPEN_CHANGE_STATES),
            name="monitoring_covenant_change_one_open")]
        indexes = [models.Index(fields=["state", "effective_from"], name="mon_covchange_due")]

    def __str__(self) -> str:
        return f"{self.covenant_id} {self.kind} from {self.effective_from} {self.state}"

    @transition(field=state, source=CH.PROPOSED, target=CH.APPROVED, permission=change_checker)
    def approve(self, *, by, at, note: str) -> None:
        """A second person agrees; it takes effect on its start day."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note

    @transition(field=state, source=CH.PROPOSED, target=CH.REJECTED, permission=change_checker)
    def reject(self, *, by, at, note: str) -> None:
        """A second person turns it down, with the reason; the covenant stays as it was."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note

    @transition(field=state, source=CH.PROPOSED, target=CH.WITHDRAWN, permission=change_proposer)
    def withdraw(self, *, at) -> None:
        """The proposer takes it back before anyone decided."""
        self.decided_at = at

    @transition(field=state, source=CH.APPROVED, target=CH.IN_EFFECT)
    def take_effect(self, *, at, previous: dict) -> None:
        """System: its start day has come (at approval, or the daily sweep)."""
        self.in_effect_at, self.previous = at, previous


class AnnualReview(DueWork):
    """The annual review (年审) of one loan for one loan year, due before the anniversary."""

    year = models.PositiveSmallIntegerField(_("loan year"))
    anniversary = models.DateField(_("anniversary"))
    state = FSMField(_("state"), default=AR.SCHEDULED, choices=AR.choices, protected=True,
                     db_index=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=ReviewOutcome.choices,
                               blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("annual review")
        verbose_name_plural = _("annual reviews")
        indexes = [models.Index(fields=["state", "due_date"], name="mon_review_due")]
        constraints = [models.UniqueConstraint(fields=["loan", "year"],
                                               name="monitoring_annual_review_once")]

    def __str__(self) -> str:
        return f"{self.loan_id} year {self.year} {self.state}"

    @transition(field=state, source=AR.SCHEDULED, target=AR.DUE)
    def mark_due(self, *, at) -> None:
        """The sweep: the reminder window opened."""
        self.reminded_at = at

    @transition(field=state, source=[AR.SCHEDULED, AR.DUE], target=AR.OVERDUE)
    def mark_overdue(self, *, at) -> None:
        """The sweep: the due date passed without a submission (still submittable)."""
        self.overdue_at = at

    @transition(field=state, source=[AR.SCHEDULED, AR.DUE, AR.OVERDUE], target=AR.SUBMITTED,
                permission=may_work_loan)
    def submit(self, *, by, at, outcome: str, note: str, documents: list[int]) -> None:
        """The officer submits the review: outcome, findings, evidence documents."""
        self.submitted_by, self.submitted_at = by, at
        self.outcome, self.note, self.evidence_documents = outcome, note, documents

    @transition(field=state, source=AR.SUBMITTED, target=AR.ACCEPTED, permission=second_person)
    def accept(self, *, by, at, note: str) -> None:
        """A second person accepts the review."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note

    @transition(field=state, source=AR.SUBMITTED, target=AR.DUE, permission=second_person)
    def return_for_correction(self, *, by, at, note: str) -> None:
        """Back to the officer with the reason; on-time is judged on the corrected one."""
        self.decided_by, self.decided_at, self.decision_note = by, at, note
        self.submitted_at = None


class MonitoringNotice(models.Model):
    """An in-app reminder or escalation about a covenant check or annual review, shown on
    the recipient's work list (and mailed). Unique per item, kind and recipient: the daily
    sweep can rerun without telling anyone twice (as documents' re-collection reminders)."""

    kind = models.CharField(_("kind"), max_length=10, choices=NoticeKind.choices)
    loan = models.ForeignKey("loans.Loan", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("loan"))
    # "covenant_check:12" or "annual_review:7"
    subject = models.CharField(_("about"), max_length=40)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("recipient"))
    message = models.TextField(_("message"))
    due_date = models.DateField(_("due date"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("monitoring notice")
        verbose_name_plural = _("monitoring notices")
        constraints = [models.UniqueConstraint(fields=["subject", "kind", "recipient"],
                                               name="monitoring_notice_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} → {self.recipient_id}"
