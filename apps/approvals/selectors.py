"""Reads of approvals, scoped to the viewer: the inbox, the route of a file, committee agendas.

Every read starts from what the viewer may see (ASVS 8.2.2: no IDOR on any route); the inbox
is one query whatever its length (CONVENTIONS §8: query counts are part of the API).
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.applications.selectors import application_list
from apps.approvals.models import (
    ApprovalRoute,
    ApprovalStep,
    CommitteeMember,
    CommitteeSession,
    ConditionPrecedent,
    SignOff,
    Vote,
)
from apps.approvals.sod import waiting_steps

INBOX_ORDERINGS = {
    "waiting": ("opened_at", "pk"), "-waiting": ("-opened_at", "-pk"),
    "due": ("due_at", "pk"), "-due": ("-due_at", "-pk"),
    # the step's copy of the route's amount: sorted through the waiting steps' own index
    "amount": ("amount_basis", "pk"), "-amount": ("-amount_basis", "-pk"),
    "grade": ("route__grade", "pk"), "-grade": ("-route__grade", "-pk"),
}


def inbox_list(*, viewer: User, filters: dict | None = None,
               ordering: str = "waiting", at=None) -> QuerySet[ApprovalStep]:
    """Steps waiting for the viewer's signature or vote, oldest first by default; `at`: the
    moment delegations are judged at (now by default)."""
    filters = filters or {}
    steps = (waiting_steps(viewer, at=at)
             .select_related("route__application__enterprise",
                             "route__application__product_version__product",
                             "route__application__branch", "committee"))
    if filters.get("product"):
        steps = steps.filter(route__application__product_version__product__code=filters[
            "product"])
    if filters.get("grade"):
        steps = steps.filter(route__grade=filters["grade"])
    if filters.get("kind"):
        steps = steps.filter(kind=filters["kind"])
    if filters.get("overdue_before"):
        steps = steps.filter(due_at__lte=filters["overdue_before"])
    return steps.order_by(*INBOX_ORDERINGS.get(ordering, INBOX_ORDERINGS["waiting"]))


def inbox_count(*, viewer: User) -> int:
    """How many items wait for the viewer (the number beside the menu entry)."""
    if not viewer.is_authenticated:
        return 0
    return waiting_steps(viewer).count()


def inbox_page(*, viewer: User, filters: dict | None = None, ordering: str = "waiting",
               number: str | int | None = 1, per_page: int = 50) -> Page:
    """One page of the inbox and the total in a single query (the count as a scalar subquery
    beside the rows), instead of a count and then the page; an unfiltered page's total is also
    the menu's waiting count (the view hands it on). A page past the end falls back to the
    paginator (count, then the last page)."""
    steps = inbox_list(viewer=viewer, filters=filters, ordering=ordering)
    paginator = Paginator(steps, per_page)
    try:
        page_number = max(int(number or 1), 1)
    except (TypeError, ValueError):
        page_number = 1
    bottom = (page_number - 1) * per_page
    # The total as an uncorrelated scalar subquery (PostgreSQL runs it once, as an InitPlan,
    # over the narrow filtered steps; grouped by state, which the filter fixes to waiting, so
    # it is one row): a window COUNT(*) OVER () would materialise every wide joined row.
    total = (steps.order_by().values("state").annotate(n=Count("pk")).values("n")[:1])
    rows = list(steps.annotate(inbox_total=Coalesce(Subquery(total), 0))
                [bottom:bottom + per_page])
    if not rows and page_number > 1:
        return paginator.get_page(page_number)
    paginator.count = rows[0].inbox_total if rows else 0  # the paginator's cached count
    return Page(rows, page_number, paginator)


def route_list(*, viewer: User, application_id: int) -> QuerySet[ApprovalRoute]:
    """The routes of a file the viewer may see, newest round first, with steps, signatures,
    votes and conditions prefetched (a constant number of queries)."""
    visible = application_list(viewer=viewer).filter(pk=application_id)
    return (ApprovalRoute.objects.filter(application__in=visible.values("pk"))
            .select_related("matrix", "rule")
            .prefetch_related(
                Prefetch("steps", queryset=ApprovalStep.objects.select_related("committee")
                         .order_by("position")),
                Prefetch("sign_offs", queryset=SignOff.objects.select_related(
                    "signer", "on_behalf_of", "step")),
                Prefetch("votes", queryset=Vote.objects.select_related("member")),
                Prefetch("conditions", queryset=ConditionPrecedent.objects.select_related(
                    "satisfied_by", "added_by", "evidence_document")),
                "policy_exceptions__declared_by")
            .order_by("-round"))


def step_get(*, viewer: User, step_id: int) -> ApprovalStep:
    """404 for a step of a file the viewer may not see."""
    visible = application_list(viewer=viewer).values("pk")
    return get_object_or_404(ApprovalStep.objects.select_related(
        "route__application", "committee").filter(route__application__in=visible), pk=step_id)


def condition_get(*, viewer: User, condition_id: int) -> ConditionPrecedent:
    visible = application_list(viewer=viewer).values("pk")
    return get_object_or_404(ConditionPrecedent.objects.filter(application__in=visible),
                             pk=condition_id)


def session_list(*, viewer: User) -> QuerySet[CommitteeSession]:
    """Sessions of the committees the viewer sits on (members see their own committees)."""
    seats = CommitteeMember.objects.filter(user=viewer).values("committee_id")
    return (CommitteeSession.objects.filter(committee_id__in=seats)
            .select_related("committee").order_by("-scheduled_for"))


def session_get(*, viewer: User, session_id: int) -> CommitteeSession:
    return get_object_or_404(session_list(viewer=viewer), pk=session_id)


def session_agenda(*, session: CommitteeSession) -> QuerySet[ApprovalStep]:
    return (session.agenda.select_related(
        "route__application__enterprise", "route__application__product_version__product",
        "committee")
        .prefetch_related(Prefetch("votes", queryset=Vote.objects.select_related("member")))
        .order_by(F("opened_at").asc(nulls_last=True), "pk"))
