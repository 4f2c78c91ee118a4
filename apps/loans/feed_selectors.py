"""Reads for the servicing side of the loan page and the feed imports page, scoped to the viewer.

The loan page (built on the origination side) includes `loans/partials/repayments.html` with
`repayments=loan_repayments(...)` and `loans/partials/dpd_history.html` with
`dpd_history=loan_dpd_history(...)`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.loans.models import FeedImport, Loan, LoanDpd, RepaymentEvent


def _check_loan_visible(loan: Loan, viewer) -> None:
    """404 for a loan outside the viewer's branches: its existence is not revealed."""
    branches = visible_branch_ids(viewer=viewer)
    if branches is not None and loan.branch_id not in branches:
        raise Http404


def loan_repayments(*, loan: Loan, viewer) -> QuerySet[RepaymentEvent]:
    """The loan's repayments and reversals as the core booked them, newest value date first,
    each repayment marked `is_reversed` when a reversal cancels it (one query)."""
    _check_loan_visible(loan, viewer)
    return (RepaymentEvent.objects.filter(loan_id=loan.pk)
            .select_related("reverses")
            .annotate(is_reversed=Exists(RepaymentEvent.objects.filter(reverses=OuterRef("pk"))))
            .order_by("-value_date", "-id"))


def loan_dpd_history(*, loan: Loan, viewer) -> QuerySet[LoanDpd]:
    """Days-past-due change points, newest first: each holds from its date until the next
    (between two points the count grows by one a day while positive; apps.loans.dpd)."""
    _check_loan_visible(loan, viewer)
    return LoanDpd.objects.filter(loan_id=loan.pk).order_by("-as_of")


def may_view_feed(viewer) -> bool:
    """Loan operations officers and administrators run the feed; auditors read it. Imports are
    bank-wide batches from the core system, so they are not split by branch."""
    return viewer.is_authenticated and viewer.has_role(Role.LOAN_OPERATIONS, Role.ADMIN,
                                                       Role.AUDITOR)


def feed_import_list(*, viewer) -> QuerySet[FeedImport]:
    """Feed imports, newest first, with who imported them."""
    if not may_view_feed(viewer):
        raise PermissionDenied(_("Only loan operations officers, administrators and auditors "
                                 "see the core-banking feed."))
    return FeedImport.objects.select_related("imported_by").order_by("-created_at", "-id")


def feed_import_get(*, viewer, import_id: int) -> FeedImport:
    try:
        return feed_import_list(viewer=viewer).get(pk=import_id)
    except FeedImport.DoesNotExist:
        raise Http404 from None
