"""Reads of exemption cases, scoped to the viewer, and the NPL tolerance dashboard (§4.6).

Who sees what: auditors and administrators every case (read-only for auditors); exemption
committee members the cases of the branches they see (head office: all); a member of staff
under review their own cases (to read the decision and appeal). Everyone else: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES, LoanState
from apps.org.models import Branch
from apps.oversight.exemption_models import ExemptionCase
from apps.oversight.exemption_policy import (
    NPL_TARGET_PCT,
    NPL_TOLERANCE_PP,
    SUBSTANDARD_DPD,
    exemption_policy,
)


def may_oversee_exemptions(viewer) -> bool:
    """Auditors, administrators and exemption committee members: lists beyond one's own
    cases, and the dashboard."""
    return bool(viewer is not None and viewer.is_authenticated and viewer.is_active and (
        viewer.is_superuser or viewer.has_role(Role.AUDITOR, Role.ADMIN,
                                               Role.EXEMPTION_COMMITTEE)))


def require_exemption_overseer(viewer) -> None:
    if not may_oversee_exemptions(viewer):
        raise PermissionDenied(_("Only auditors, administrators and exemption committee "
                                 "members may see this."))


def _visible(viewer) -> Q:
    own = Q(people__user=viewer)
    if not may_oversee_exemptions(viewer):
        return own
    branch_ids = visible_branch_ids(viewer=viewer)
    return Q() if branch_ids is None else Q(branch_id__in=branch_ids) | own


def exemption_case_list(*, viewer, filters: dict | None = None) -> QuerySet[ExemptionCase]:
    """Cases the viewer may see, soonest deadline first. Filters: branch (id), state,
    deadline ("overdue" or "due_90": due within 90 days)."""
    if not viewer.is_authenticated:
        return ExemptionCase.objects.none()
    cases = ExemptionCase.objects.filter(
        pk__in=ExemptionCase.objects.filter(_visible(viewer)).values("pk"))
    filters = filters or {}
    if filters.get("branch"):
        cases = cases.filter(branch_id=filters["branch"])
    if filters.get("state"):
        cases = cases.filter(state=filters["state"])
    now = timezone.now()
    if filters.get("deadline") == "overdue":
        cases = cases.filter(deadline_at__lte=now).exclude(state="closed")
    elif filters.get("deadline") == "due_90":
        cases = cases.filter(deadline_at__gt=now,
                             deadline_at__lte=now + timezone.timedelta(days=90)
                             ).exclude(state="closed")
    return cases.select_related("loan", "branch", "application__enterprise").order_by(
        "deadline_at", "pk")


def exemption_case_get(*, case_id: int, viewer) -> ExemptionCase:
    """One case, or 404 when it does not exist or the viewer may not see it."""
    case = exemption_case_list(viewer=viewer).filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


@dataclass
class NplRow:
    branch: Branch | None
    outstanding: Decimal
    non_performing: Decimal
    ratio_pct: Decimal | None
    status: str  # within_target / within_tolerance / above_tolerance / no_loans

    @property
    def status_label(self) -> str:
        return str({"within_target": _("Within the head-office target: staff may be deemed "
                                       "diligent absent violations"),
                    "within_tolerance": _("Above target, within the tolerance"),
                    "above_tolerance": _("Above the tolerance"),
                    "no_loans": _("No loans")}[self.status])


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part * 100 / whole).quantize(Decimal("0.01")) if whole else None


def npl_dashboard(*, viewer) -> dict:
    """Per branch: the inclusive NPL ratio (loans past the substandard DPD floor or written
    off, over outstanding) against the bank's overall ratio + tolerance (policy, +3 pp) and
    the head-office target (policy). Two queries for the loans whatever their number."""
    require_exemption_overseer(viewer)
    floor = exemption_policy(SUBSTANDARD_DPD)
    tolerance = exemption_policy(NPL_TOLERANCE_PP)
    target = exemption_policy(NPL_TARGET_PCT)
    bad = Q(state=LoanState.WRITTEN_OFF) | Q(dpd_principal__gt=floor.value) | Q(
        dpd_interest__gt=floor.value)
    book = Loan.objects.filter(state__in=[*OPEN_LOAN_STATES, LoanState.WRITTEN_OFF])
    totals = book.aggregate(outstanding=Sum("outstanding_principal"),
                            non_performing=Sum("outstanding_principal", filter=bad))
    overall = _pct(totals["non_performing"] or Decimal(0), totals["outstanding"] or Decimal(0))
    limit = overall + tolerance.value if overall is not None else None
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        book = book.filter(branch_id__in=branch_ids)
    per_branch = (book.values("branch_id").order_by("branch_id")
                  .annotate(outstanding=Sum("outstanding_principal"),
                            non_performing=Sum("outstanding_principal", filter=bad)))
    branches = Branch.objects.in_bulk([r["branch_id"] for r in per_branch])
    rows = []
    for r in per_branch:
        outstanding, npl = r["outstanding"] or Decimal(0), r["non_performing"] or Decimal(0)
        ratio = _pct(npl, outstanding)
        if ratio is None:
            status = "no_loans"
        elif ratio <= target.value:
            status = "within_target"
        elif limit is not None and ratio <= limit:
            status = "within_tolerance"
        else:
            status = "above_tolerance"
        rows.append(NplRow(branches.get(r["branch_id"]), outstanding, npl, ratio, status))
    return {"rows": rows, "overall_pct": overall, "limit_pct": limit,
            "tolerance": tolerance, "target": target, "floor": floor}
