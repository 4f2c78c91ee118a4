"""Reads of the loan book, scoped to what the viewer may see (ASVS 8.2.2: no IDOR).

Branch scope as everywhere (`visible_branch_ids`); an account manager without a supervisory
role sees the loans of their own files only. Invisible objects are 404, never 403.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.loans.models import Disbursement, Loan, LoanChange, LoanContract, ScheduleInstalment
from apps.loans.states import DisbursementState

# Roles that look at other people's files (as the application list has them).
SUPERVISORY = (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER,
               Role.POST_LOAN_OFFICER, Role.LOAN_OPERATIONS, Role.AUDITOR, Role.ADMIN)


def _scope(queryset: QuerySet, viewer: User, *, manager_field: str) -> QuerySet:
    if not viewer.is_authenticated:
        return queryset.none()
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        queryset = queryset.filter(branch_id__in=branch_ids)
    if not viewer.is_superuser and not viewer.has_role(*SUPERVISORY):
        if not viewer.has_role(Role.ACCOUNT_MANAGER):
            return queryset.none()
        queryset = queryset.filter(**{manager_field: viewer})
    return queryset


def may_see_loans(viewer: User) -> bool:
    """Whether the loan book is in the viewer's navigation at all."""
    return viewer.is_authenticated and (viewer.is_superuser or viewer.has_role(
        *SUPERVISORY, Role.ACCOUNT_MANAGER))


def contract_list(*, viewer: User) -> QuerySet[LoanContract]:
    """Contracts of the files the viewer may see."""
    return _scope(LoanContract.objects.select_related(
        "application__product_version__product", "enterprise", "branch", "created_by",
        "signing_witness"), viewer, manager_field="application__account_manager")


def contract_get(*, viewer: User, contract_id: int) -> LoanContract:
    return get_object_or_404(contract_list(viewer=viewer), pk=contract_id)


def contract_drawn(contract: LoanContract) -> dict:
    """Approved, pending and undrawn amounts of a contract (one aggregate query)."""
    sums = contract.disbursements.aggregate(
        approved=Sum("amount", filter=Q(state=DisbursementState.APPROVED)),
        pending=Sum("amount", filter=Q(state=DisbursementState.REQUESTED)))
    approved, pending = sums["approved"] or Decimal(0), sums["pending"] or Decimal(0)
    return {"approved": approved, "pending": pending,
            "undrawn": contract.amount - approved - pending}


def disbursement_list(*, viewer: User, contract: LoanContract) -> QuerySet[Disbursement]:
    """The drawdowns of a contract the viewer already sees (the caller got it by selector)."""
    return (Disbursement.objects.filter(contract=contract)
            .select_related("requested_by", "decided_by", "invoice_document", "loan")
            .order_by("pk"))


def disbursement_get(*, viewer: User, disbursement_id: int) -> Disbursement:
    contracts = contract_list(viewer=viewer).values("pk")
    return get_object_or_404(Disbursement.objects.filter(contract__in=contracts)
                             .select_related("contract"), pk=disbursement_id)


LOAN_FILTERS = ("branch", "state", "officer", "enterprise", "dpd_min", "dpd_max", "contract")


def loan_list(*, viewer: User, filters: dict | None = None) -> QuerySet[Loan]:
    """Loans the viewer may see, filtered by branch, state, officer, enterprise, contract and
    a range of days past due (the longer of principal and interest). One query."""
    loans = _scope(Loan.objects.select_related("enterprise", "branch", "officer", "contract",
                                               "application"),
                   viewer, manager_field="application__account_manager")
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if "branch" in filters:
        loans = loans.filter(branch_id=filters["branch"])
    if "state" in filters:
        loans = loans.filter(state=filters["state"])
    if "officer" in filters:
        loans = loans.filter(officer_id=filters["officer"])
    if "enterprise" in filters:
        loans = loans.filter(enterprise_id=filters["enterprise"])
    if "contract" in filters:
        loans = loans.filter(contract_id=filters["contract"])
    if "dpd_min" in filters:
        n = int(filters["dpd_min"])
        loans = loans.filter(Q(dpd_principal__gte=n) | Q(dpd_interest__gte=n))
    if "dpd_max" in filters:
        n = int(filters["dpd_max"])
        loans = loans.filter(dpd_principal__lte=n, dpd_interest__lte=n)
    return loans


def loan_get(*, viewer: User, loan_id: int) -> Loan:
    return get_object_or_404(loan_list(viewer=viewer).select_related(
        "disbursement", "product_version__product"), pk=loan_id)


def loan_schedule(*, loan: Loan, version: int | None = None) -> QuerySet[ScheduleInstalment]:
    """The instalments of the version in force (or another version, for the record)."""
    return loan.instalments.filter(version=version or loan.schedule_version).order_by("number")


def loan_change_list(*, loan: Loan) -> QuerySet[LoanChange]:
    return loan.changes.select_related("requested_by", "decided_by").order_by("-pk")


def loan_change_get(*, viewer: User, change_id: int) -> LoanChange:
    loans = loan_list(viewer=viewer).values("pk")
    return get_object_or_404(LoanChange.objects.filter(loan__in=loans), pk=change_id)
