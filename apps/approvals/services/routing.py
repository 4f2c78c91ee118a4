"""Freezing the route when an application enters approval, and moving along it.

The route is resolved once, from the matrix in force that day, the risk grade, the amount
measured on group exposure (§6.1) and whether a policy exception was declared; it is then
copied into step rows, so a later matrix version never changes a decision in flight.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.applications.exposure import group_exposure
from apps.approvals.matrix import UNGRADED, rule_for
from apps.approvals.models import (
    ApprovalRoute,
    ApprovalStep,
    Committee,
    CommitteeScope,
    ConditionPrecedent,
    PolicyException,
    StepKind,
)
from apps.approvals.services.matrix import authority_matrix_in_force
from apps.approvals.services.quorum import quorum_check
from apps.approvals.states import StepState
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName


class RouteUnavailable(DomainError):
    """The matrix or the committees configured cannot route this file (HTTP 409)."""

    code = "route_unavailable"
    status_code = 409


def latest_score(application_id: int):
    """Scoring's latest result, or None while scoring has not graded the file (or the
    selector has not landed): imported lazily because scoring is extended separately."""
    try:
        from apps.scoring.selectors import latest_score as scoring_latest
    except ImportError:
        return None
    return scoring_latest(application_id=application_id)


def risk_grade(application_id: int) -> str:
    score = latest_score(application_id)
    grade = getattr(score, "grade", None) if score is not None else None
    return str(grade) if grade else UNGRADED


def amount_basis(application, proposed: Decimal | None) -> Decimal:
    """Group exposure with this request at the amount proposed (§6.1: bands are on group
    exposure): the group's booked and approved credit, its other requests, and this one."""
    exposure = group_exposure(enterprise_id=application.enterprise_id)
    requested = application.amount_requested or Decimal("0")
    this = proposed if proposed is not None else requested
    return exposure.existing + exposure.approved + (exposure.requested - requested) + this


def _committee_for(application, scope: str) -> Committee | None:
    """The branch committee of the file's branch (or the nearest above it), or the bank's
    head-office committee."""
    if scope == CommitteeScope.HEAD_OFFICE:
        return Committee.objects.filter(scope=CommitteeScope.HEAD_OFFICE).order_by("pk").first()
    branch = application.branch
    while branch is not None:
        committee = Committee.objects.filter(scope=CommitteeScope.BRANCH, branch=branch).first()
        if committee is not None:
            return committee
        branch = branch.parent
    return None


def route_resolve(*, application, opinion, actor) -> ApprovalRoute:
    """Freeze the route for this round (called inside the review service's transaction)."""
    today = timezone.localdate()
    matrix = authority_matrix_in_force(on=today)
    if matrix is None:
        raise RouteUnavailable(_("No authority matrix is in force: an administrator must "
                                 "publish one."))
    exceptions = list(PolicyException.objects.filter(application=application,
                                                     route__isnull=True))
    grade = risk_grade(application.pk)
    basis = amount_basis(application, opinion.proposed_amount)
    product_id = application.product_version.product_id
    rule = rule_for(matrix, product_id=product_id, amount=basis, grade=grade,
                    policy_exception=bool(exceptions))
    if rule is None:
        raise RouteUnavailable(_("The authority matrix has no row for this file (grade "
                                 "%(grade)s, amount %(amount)s).")
                               % {"grade": grade, "amount": f"{basis:,.2f}"})
    round_number = application.approval_routes.count() + 1
    route = ApprovalRoute.objects.create(
        application=application, round=round_number, matrix=matrix, rule=rule,
        amount_basis=basis, grade=grade, policy_exception=bool(exceptions))
    for position, spec in enumerate(rule.steps, start=1):
        committee = None
        if spec["kind"] == StepKind.COMMITTEE:
            committee = _committee_for(application, spec["committee"])
            if committee is None:
                raise RouteUnavailable(_("No %(scope)s is configured for this branch.")
                                       % {"scope": CommitteeScope(spec["committee"]).label})
        ApprovalStep.objects.create(
            route=route, position=position, kind=spec["kind"], level=spec.get("level"),
            committee=committee, label_en=spec["label"], label_zh=spec.get("label_zh", ""),
            deadline_hours=spec["deadline_hours"],
            remind_after_hours=spec["remind_after_hours"],
            amount_basis=basis)  # the inbox sorts by the step's copy
    PolicyException.objects.filter(pk__in=[e.pk for e in exceptions]).update(route=route)
    for text in opinion.conditions:
        ConditionPrecedent.objects.create(application=application, route=route, text=text,
                                          added_by=opinion.reviewer)
    audit_record(action="approval_route.resolved", actor=actor, subject=route, payload={
        "application": application.reference, "round": round_number,
        "matrix_version": matrix.version, "rule_row": rule.row, "grade": grade,
        "amount_basis": basis, "policy_exceptions": [e.pk for e in exceptions],
        "steps": rule.steps})
    step_open_next(route=route, actor=actor)
    return route


def step_open_next(*, route: ApprovalRoute, actor) -> ApprovalStep | None:
    """Open the first pending step, start its clock, and tell its signers after commit."""
    step = route.steps.filter(state=StepState.PENDING).order_by("position").first()
    if step is None:
        return None
    now = timezone.now()
    step.open(at=now, due_at=now + dt.timedelta(hours=step.deadline_hours),
              remind_at=now + dt.timedelta(hours=step.remind_after_hours))
    step.save()
    audit_record(action="approval_step.opened", actor=actor, subject=step,
                 payload={"route": route.pk, "position": step.position, "kind": step.kind,
                          "level": step.level, "committee": step.committee_id,
                          "due_at": step.due_at})
    enqueue_on_commit(TaskName.APPROVALS_STEP_NOTIFY, step_id=step.pk)
    if step.kind == StepKind.COMMITTEE:
        step.route = route
        quorum_check(step=step, actor=actor)
    return step


def route_skip_rest(*, route: ApprovalRoute) -> None:
    for step in route.steps.filter(state=StepState.PENDING):
        step.skip()
        step.save()
