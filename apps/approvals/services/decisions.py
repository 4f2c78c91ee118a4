"""What a decided step does to its route and to the application (shared by sign-offs and
committee votes): open the next level, or finish the route through the application services.

The application's own approve / reject / return are refused by guards until the route says so,
so this is the only way an application in approval is decided.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.applications import services as application_services
from apps.applications.models import Application
from apps.approvals.models import ApprovalRoute, ApprovalStep, ConditionPrecedent, Decision
from apps.approvals.services.routing import latest_score, route_skip_rest, step_open_next
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict

# Recommendations that count as "do not lend" when a route approves anyway.
_NEGATIVE = {"decline", "reject", "refer_decline"}


def lock_step(step_id: int) -> tuple[Application, ApprovalStep]:
    """Lock the application, then the step, always in this order (no deadlock between a
    signature and a vote on the same file)."""
    application_id = (ApprovalStep.objects.filter(pk=step_id)
                      .values_list("route__application_id", flat=True).get())
    application = Application.objects.select_for_update(no_key=True).get(pk=application_id)
    step = (ApprovalStep.objects.select_for_update(no_key=True, of=("self",))
            .select_related("route", "committee").get(pk=step_id))
    step.route.application = application
    return application, step


def approved_terms(route: ApprovalRoute) -> tuple[Decimal, Decimal | None]:
    """The amount and rate standing so far: each level may lower the amount, never raise it."""
    last = route.sign_offs.exclude(amount__isnull=True).order_by("-signed_at").first()
    opinion = getattr(route, "opinion", None)
    amount = route.application.amount_requested
    rate = None
    if opinion is not None:
        amount = opinion.proposed_amount or amount
        rate = opinion.proposed_rate
    if last is not None:
        amount, rate = last.amount, last.rate if last.rate is not None else rate
    return amount, rate


def conditions_add(*, route: ApprovalRoute, texts: list[str], actor) -> None:
    for text in texts:
        ConditionPrecedent.objects.create(application=route.application, route=route,
                                          text=text, added_by=actor)


def _score_override(application: Application, decision: str, reason: str, actor) -> None:
    """Tell scoring when people decide against its recommendation (override monitoring)."""
    score = latest_score(application.pk)
    recommendation = str(getattr(score, "recommendation", "") or "").lower()
    if not recommendation:
        return
    against = (decision == Decision.APPROVE and recommendation in _NEGATIVE) or \
              (decision == Decision.REJECT and recommendation in {"accept", "approve"})
    if not against:
        return
    try:
        from apps.scoring.services import score_override_record
    except ImportError:
        return
    score_override_record(application_id=application.pk, decision=decision, reason=reason,
                          actor=actor)


def step_decided(*, step: ApprovalStep, decision: str, actor, reason: str,
                 amount: Decimal | None = None, rate: Decimal | None = None) -> None:
    """Apply a step's decision: next level, or the application's final move."""
    now = timezone.now()
    route, application = step.route, step.route.application
    if decision == Decision.APPROVE:
        step.approve(at=now)
        step.save()
        if step_open_next(route=route, actor=actor) is not None:
            return
        route.approve(at=now)
        route.save()
        final_amount, final_rate = approved_terms(route)
        _score_override(application, decision, reason, actor)
        application_services.application_approve(
            application_id=application.pk, actor=actor, reason=reason,
            amount=amount if amount is not None else final_amount,
            rate=rate if rate is not None else final_rate)
    elif decision == Decision.REJECT:
        step.reject(at=now)
        step.save()
        route.reject(at=now)
        route.save()
        route_skip_rest(route=route)
        _score_override(application, decision, reason, actor)
        application_services.application_reject(application_id=application.pk, actor=actor,
                                                reason=reason)
    elif decision == Decision.RETURN:
        step.send_back(at=now)
        step.save()
        route.send_back(at=now)
        route.save()
        route_skip_rest(route=route)
        application_services.application_return_for_rework(application_id=application.pk,
                                                           actor=actor, comment=reason)
    else:
        raise TransitionConflict(detail=_("Unknown decision."))
    audit_record(action=f"approval_route.{route.state}", actor=actor, subject=route,
                 payload={"application": application.reference, "round": route.round,
                          "last_step": step.position, "reason": reason})
