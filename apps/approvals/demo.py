"""Signing a route the way the demo staff would, through the services (demo seed and tests).

Each step is signed by the least senior eligible person, as a bank routes work; committee
steps get an approving vote from eligible members until the vote closes itself.
"""

from __future__ import annotations

from apps.approvals.models import ApprovalStep, ConditionPrecedent, StepKind, VoteChoice
from apps.approvals.services import committee_vote_cast, condition_satisfy, step_sign
from apps.approvals.services.committee import eligible_member_ids
from apps.approvals.services.notifications import step_candidates
from apps.approvals.states import ConditionState, RouteState, StepState


def _waiting_step(application) -> ApprovalStep | None:
    return (ApprovalStep.objects.select_related("route__application", "committee")
            .filter(route__application=application, route__state=RouteState.IN_PROGRESS,
                    state=StepState.WAITING).first())


def sign_route(application, *, password: str,
               reason: str = "Sound cash flow and local reputation.") -> None:
    """Approve every step of the application's open route."""
    from apps.accounts.models import User

    while (step := _waiting_step(application)) is not None:
        if step.kind == StepKind.COMMITTEE:
            member_id = min(eligible_member_ids(step) - set(
                step.votes.values_list("member_id", flat=True)), default=None)
            if member_id is None:
                raise RuntimeError(f"no eligible committee member left for step {step.pk}")
            committee_vote_cast(step_id=step.pk, actor=User.objects.get(pk=member_id),
                                password=password, choice=VoteChoice.APPROVE,
                                opinion="Agree with the review.")
            continue
        candidates = sorted(step_candidates(step),
                            key=lambda u: (u.authority_level or 0, u.username))
        if not candidates:
            raise RuntimeError(f"no eligible approver for step {step.pk} (level {step.level})")
        step_sign(step_id=step.pk, actor=candidates[0], password=password,
                  decision="approve", reason=reason)


def satisfy_conditions(application, officer) -> None:
    """Tick every open condition precedent of the application with a demo note."""
    for condition in ConditionPrecedent.objects.filter(application=application,
                                                       state=ConditionState.OPEN):
        condition_satisfy(condition_id=condition.pk, actor=officer,
                          note="Original seen and copy filed by the disbursement centre.")
