"""Reads for covenants, covenant checks and annual reviews, scoped to the viewer's branches
(ASVS 8.2.2: no IDOR on any route): the loan page's section, the officer's work list and
the second person's queue."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.core.fsm import may_attempt
from apps.monitoring.covenant_models import (
    AnnualReview,
    Covenant,
    CovenantChange,
    CovenantCheck,
    MonitoringNotice,
)
from apps.monitoring.covenant_states import (
    OPEN_CHECK_STATES,
    OPEN_REVIEW_STATES,
    AnnualReviewState,
    CovenantCheckState,
)

# How far ahead the work list looks (a page choice, not a policy threshold: the reminder
# window itself is policy data and moves items to "due").
WORKLIST_HORIZON_DAYS = 30
CHECK_ACTIONS = ("submit", "accept", "confirm_breach")
CHANGE_ACTIONS = ("approve", "reject", "withdraw")
REVIEW_ACTIONS = ("submit", "accept", "return_for_correction")


def _scoped(queryset: QuerySet, viewer) -> QuerySet:
    if viewer is None or not viewer.is_authenticated:
        return queryset.none()
    branches = visible_branch_ids(viewer=viewer)
    return queryset if branches is None else queryset.filter(branch_id__in=branches)


def covenant_check_list(*, viewer) -> QuerySet[CovenantCheck]:
    return _scoped(CovenantCheck.objects.select_related(
        "loan", "loan__enterprise", "loan__officer", "covenant", "submitted_by", "decided_by"),
        viewer)


def covenant_check_get(*, check_id: int, viewer) -> CovenantCheck:
    """404 for a check the viewer may not see: its existence is not revealed."""
    found = covenant_check_list(viewer=viewer).filter(pk=check_id).first()
    if found is None:
        raise Http404
    return found


def annual_review_list(*, viewer) -> QuerySet[AnnualReview]:
    return _scoped(AnnualReview.objects.select_related(
        "loan", "loan__enterprise", "loan__officer", "submitted_by", "decided_by"), viewer)


def annual_review_get(*, review_id: int, viewer) -> AnnualReview:
    found = annual_review_list(viewer=viewer).filter(pk=review_id).first()
    if found is None:
        raise Http404
    return found


def covenant_get(*, covenant_id: int, viewer) -> Covenant:
    """404 for a covenant the viewer may not see (another branch): existence not revealed."""
    found = (_scoped(Covenant.objects.select_related("loan", "loan__enterprise",
                                                     "loan__officer"), viewer)
             .filter(pk=covenant_id).first())
    if found is None:
        raise Http404
    return found


def covenant_change_list(*, viewer) -> QuerySet[CovenantChange]:
    return _scoped(CovenantChange.objects.select_related(
        "covenant", "loan", "proposed_by", "decided_by"), viewer)


def covenant_change_get(*, change_id: int, viewer) -> CovenantChange:
    found = covenant_change_list(viewer=viewer).filter(pk=change_id).first()
    if found is None:
        raise Http404
    return found


def available_actions(item, user) -> list[str]:
    """Moves the user may try now (a hint for pages and clients; services check again)."""
    if isinstance(item, CovenantChange):
        return [name for name in CHANGE_ACTIONS
                if may_attempt(getattr(item, name), actor=user)]
    names = CHECK_ACTIONS if isinstance(item, CovenantCheck) else REVIEW_ACTIONS
    return [name for name in names if may_attempt(getattr(item, name), actor=user)]


def covenant_section(*, loan, viewer) -> dict:
    """The loan page's covenants & annual review section (the caller checked the viewer may
    see the loan)."""
    covenants = list(_scoped(Covenant.objects.filter(loan=loan), viewer).order_by("id"))
    checks = list(covenant_check_list(viewer=viewer).filter(loan=loan)
                  .order_by("-due_date", "-id")[:100])
    by_covenant: dict[int, list] = {}
    for check in checks:
        check.actions = available_actions(check, viewer)
        by_covenant.setdefault(check.covenant_id, []).append(check)
    changes: dict[int, list] = {}
    for change in covenant_change_list(viewer=viewer).filter(loan=loan).order_by("-id")[:100]:
        changes.setdefault(change.covenant_id, []).append(change)
    for covenant in covenants:
        covenant.history = by_covenant.get(covenant.pk, [])
        covenant.change_list = changes.get(covenant.pk, [])
    reviews = list(annual_review_list(viewer=viewer).filter(loan=loan).order_by("-year"))
    for review in reviews:
        review.actions = available_actions(review, viewer)
    return {"loan": loan, "covenants": covenants, "reviews": reviews}


def _mine(queryset: QuerySet, viewer) -> QuerySet:
    """A post-loan officer sees the loans they answer for; team leads and reviewers see
    their branches' whole list (as the monitoring work list)."""
    if viewer.has_role(Role.TEAM_LEAD, Role.RISK_REVIEWER):
        return queryset
    return queryset.filter(loan__officer=viewer)


def covenant_worklist(*, viewer, today: dt.date | None = None) -> dict:
    """Checks and reviews due within the horizon or overdue (overdue first, then by date),
    what waits for the viewer's decision (never their own submission), and the viewer's
    unread reminders and escalations."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=WORKLIST_HORIZON_DAYS)
    checks = _mine(covenant_check_list(viewer=viewer).filter(
        state__in=OPEN_CHECK_STATES, due_date__lte=horizon), viewer).order_by("due_date", "id")
    reviews = _mine(annual_review_list(viewer=viewer).filter(
        state__in=OPEN_REVIEW_STATES, due_date__lte=horizon), viewer).order_by("due_date", "id")
    decide_checks = decide_reviews = CovenantCheck.objects.none()
    if viewer.has_role(Role.TEAM_LEAD, Role.RISK_REVIEWER):
        decide_checks = (covenant_check_list(viewer=viewer)
                         .filter(state=CovenantCheckState.SUBMITTED)
                         .exclude(submitted_by=viewer).order_by("due_date", "id"))
        decide_reviews = (annual_review_list(viewer=viewer)
                          .filter(state=AnnualReviewState.SUBMITTED)
                          .exclude(submitted_by=viewer).order_by("due_date", "id"))
    notices = (MonitoringNotice.objects.filter(recipient=viewer, read_at__isnull=True)
               .select_related("loan").order_by("-sent_at", "-id"))
    return {"covenant_checks_due": list(checks[:100]), "annual_reviews_due": list(reviews[:100]),
            "covenant_checks_to_decide": list(decide_checks[:100]),
            "annual_reviews_to_decide": list(decide_reviews[:100]),
            "notices": list(notices[:50]), "today": today}
