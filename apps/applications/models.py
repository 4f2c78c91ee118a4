"""The loan application and its lifecycle (domain reference §2.4).

draft → submitted → investigating → under review → in approval → approved → contracted →
disbursed, with returned (rework), rejected, withdrawn and expired. Transitions only set fields
on the instance; services do locking, audit and side effects (CONVENTIONS §3).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.applications import permissions as may
from apps.applications.guards import blocking_reasons
from apps.applications.states import ApplicationState as S
from apps.core.models import WorkflowModel
from apps.parties.money import Currency, MoneyField
from apps.products.models import CollateralType, RepaymentMethod

# Where an application can still be withdrawn by the customer or the bank.
WITHDRAWABLE = [S.DRAFT, S.SUBMITTED, S.INVESTIGATING, S.RETURNED, S.UNDER_REVIEW]


def _guards_clear(transition_name: str):
    def condition(application) -> bool:
        return not blocking_reasons(transition_name, application)
    condition.__name__ = f"{transition_name}_guards_clear"
    return condition


def has_required_fields(application) -> bool:
    return not application.missing_fields()


def passed_eligibility(application) -> bool:
    return bool(application.eligibility) and application.eligibility.get("eligible") is True


class Application(WorkflowModel):
    """A request for credit by one enterprise for one product version.

    Keeps the requested and the approved amount apart (both are part of the record), and the
    eligibility evaluation it was submitted with, so the decision can be re-explained later.
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    enterprise = models.ForeignKey("parties.Enterprise", on_delete=models.PROTECT,
                                   related_name="applications", verbose_name=_("enterprise"))
    product_version = models.ForeignKey("products.ProductVersion", on_delete=models.PROTECT,
                                        related_name="applications",
                                        verbose_name=_("product version"))
    # Copied from the enterprise when created: the file stays with the branch that took it.
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT,
                               related_name="applications", verbose_name=_("branch"))
    account_manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        related_name="managed_applications",
                                        verbose_name=_("account manager"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    state = FSMField(_("state"), default=S.DRAFT, choices=S.choices, protected=True,
                     db_index=True)

    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default=Currency.CNY)
    amount_requested = MoneyField(_("amount requested"), null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    purpose = models.TextField(_("purpose of the loan"), blank=True)
    repayment_method = models.CharField(_("repayment method"), max_length=20, blank=True,
                                        choices=RepaymentMethod.choices)
    collateral_type = models.CharField(_("collateral"), max_length=20, blank=True,
                                       choices=CollateralType.choices)
    amount_approved = MoneyField(_("amount approved"), null=True, blank=True)
    rate_approved = models.DecimalField(_("annual rate approved (%)"), max_digits=6,
                                        decimal_places=3, null=True, blank=True)

    eligibility = models.JSONField(_("eligibility evaluation"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reviewed by"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    closed_reason = models.TextField(_("reason closed"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("loan application")
        verbose_name_plural = _("loan applications")
        # The pipeline lists a branch's newest files first, 25 a page: an index in that order
        # lets the database stop after 25 rows instead of sorting the branch's whole book.
        indexes = [models.Index(fields=["branch", "-created_at", "-id"]),
                   models.Index(fields=["branch", "state", "-created_at"]),
                   models.Index(fields=["account_manager", "state"]),
                   # The pipeline dashboard's decisions in a period (apps/insight/pipeline.py):
                   # a range of the branches' decision dates, not the branches' whole book.
                   models.Index(fields=["branch", "decided_at"], name="application_decided")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_requested__gt=0)
                | models.Q(amount_requested__isnull=True),
                name="applications_amount_requested_positive"),
            models.CheckConstraint(
                condition=models.Q(amount_approved__gt=0) | models.Q(amount_approved__isnull=True),
                name="applications_amount_approved_positive"),
        ]

    def __str__(self) -> str:
        return self.reference

    def missing_fields(self) -> list[str]:
        """Fields a submission needs, by name, so the refusal can list them."""
        required = ("amount_requested", "term_months", "purpose", "repayment_method",
                    "collateral_type")
        return [name for name in required if getattr(self, name) in (None, "")]

    # --- transitions: fields on self only; the services do the rest ------------------------

    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED, permission=may.can_prepare,
                conditions=[has_required_fields, passed_eligibility, _guards_clear("submit")])
    def submit(self, *, at) -> None:
        """The account manager puts the file forward (受理) once eligibility has passed."""
        self.submitted_at = at

    @transition(field=state, source=S.SUBMITTED, target=S.INVESTIGATING,
                permission=may.can_prepare, conditions=[_guards_clear("start_investigation")])
    def start_investigation(self) -> None:
        """Pre-lending investigation (贷前调查) begins."""

    @transition(field=state, source=S.INVESTIGATING, target=S.UNDER_REVIEW,
                permission=may.can_prepare, conditions=[_guards_clear("send_to_review")])
    def send_to_review(self) -> None:
        """The investigation is complete; the checklist issue adds 'accepted' as a guard."""

    @transition(field=state, source=[S.UNDER_REVIEW, S.IN_APPROVAL], target=S.RETURNED,
                permission=may.can_review_or_decide)
    def return_for_rework(self) -> None:
        """Back to the account manager with comments (in the audit event)."""

    @transition(field=state, source=S.RETURNED, target=S.INVESTIGATING,
                permission=may.can_prepare)
    def resume_investigation(self) -> None:
        """Rework resumes the same investigation (same template version)."""

    @transition(field=state, source=S.UNDER_REVIEW, target=S.IN_APPROVAL,
                permission=may.can_review, conditions=[_guards_clear("send_to_approval")])
    def send_to_approval(self, *, by) -> None:
        """The reviewer's opinion is done; the file goes to the authorised approver."""
        self.reviewed_by = by

    @transition(field=state, source=S.IN_APPROVAL, target=S.APPROVED,
                permission=may.can_decide, conditions=[_guards_clear("approve")])
    def approve(self, *, by, at, amount, rate, reason) -> None:
        """Approve, possibly for less than requested; both amounts are kept."""
        self.decided_by, self.decided_at, self.decision_reason = by, at, reason
        self.amount_approved, self.rate_approved = amount, rate

    @transition(field=state, source=[S.UNDER_REVIEW, S.IN_APPROVAL], target=S.REJECTED,
                permission=may.can_review_or_decide)
    def reject(self, *, by, at, reason) -> None:
        """Declined; the file and its features are kept as of this moment (reject inference)."""
        self.decided_by, self.decided_at, self.decision_reason = by, at, reason

    @transition(field=state, source=S.APPROVED, target=S.CONTRACTED,
                permission=may.can_disburse, conditions=[_guards_clear("contract")])
    def contract(self) -> None:
        """Loan contract signed; the approvals issue adds 'conditions precedent satisfied'."""

    @transition(field=state, source=S.CONTRACTED, target=S.DISBURSED,
                permission=may.can_disburse, conditions=[_guards_clear("disburse")])
    def disburse(self) -> None:
        """Funds paid out by an independent unit (独立放款)."""

    @transition(field=state, source=WITHDRAWABLE, target=S.WITHDRAWN, permission=may.can_prepare)
    def withdraw(self, *, reason) -> None:
        """The customer or the bank withdraws the request before a decision."""
        self.closed_reason = reason

    @transition(field=state, source=[S.DRAFT, S.APPROVED], target=S.EXPIRED,
                permission=may.nobody)
    def expire(self, *, reason) -> None:
        """Stale drafts and unused approvals lapse; only the system sweep does this."""
        self.closed_reason = reason
