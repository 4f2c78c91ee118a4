"""Who may sign a step: segregation of duties and authority, for every path (UI, API, admin).

审贷分离: the account manager, whoever opened the file, the investigators (every registered
conflict source) and the reviewers never sign it; nobody signs two levels of one route; the
signer's authority level (own, or a delegator's under a live delegation) must reach the step.
There is no bypass: superusers are held to the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.guards import conflicted_user_ids
from apps.approvals.models import (
    ApprovalStep,
    CommitteeMember,
    Delegation,
    ReviewOpinion,
    SignOff,
    StepKind,
    Vote,
)
from apps.approvals.states import StepState


@dataclass(frozen=True)
class Authority:
    """What a signature relies on: a level, and the delegation that lent it (if any)."""

    level: int | None
    on_behalf_of_id: int | None = None
    delegation_id: int | None = None


def involved_user_ids(application) -> set[int]:
    """People who prepared, investigated or reviewed the file: none of them may sign it."""
    ids = set(conflicted_user_ids(application))
    ids.add(application.reviewed_by_id)
    ids |= set(ReviewOpinion.objects.filter(application=application)
               .values_list("reviewer_id", flat=True))
    return {i for i in ids if i is not None}


def route_participant_ids(step: ApprovalStep) -> set[int]:
    """Who has already signed or voted at another level of this route (or for whom someone
    signed under a delegation): nobody takes part at two levels."""
    ids = set()
    for signer, principal in SignOff.objects.filter(route_id=step.route_id).values_list(
            "signer_id", "on_behalf_of_id"):
        ids |= {signer, principal}
    ids |= set(Vote.objects.filter(route_id=step.route_id).exclude(step_id=step.pk)
               .values_list("member_id", flat=True))
    return {i for i in ids if i is not None}


def r3_findings(application) -> list[dict]:
    """The R3 red flags and cross-check findings of the file's accepted investigation.

    §6.1 overlay: "an R3 red flag removes delegated authority" — such a file is signed by
    people holding the level themselves, never under a delegation."""
    from apps.investigations.models import Investigation
    from apps.investigations.states import InvestigationState

    investigation = (Investigation.objects.filter(application_id=application.pk,
                                                  state=InvestigationState.ACCEPTED)
                     .only("red_flags", "cross_check_findings").first())
    if investigation is None:
        return []
    findings = [*(investigation.red_flags or []), *(investigation.cross_check_findings or [])]
    return [f for f in findings if isinstance(f, dict) and f.get("severity") == "R3"]


def active_delegations(*, delegate, at=None):
    at = at or timezone.now()
    return (Delegation.objects.filter(delegate=delegate, starts_at__lte=at, ends_at__gt=at,
                                      revoked_at__isnull=True)
            .select_related("delegator"))


def signing_refusal(step: ApprovalStep, user, *, at=None) -> tuple[str | None, Authority | None]:
    """(None, authority) when `user` may sign or vote on `step` now; else (reason, None)."""
    if step.state != StepState.WAITING:
        return _("This step is not waiting for a decision."), None
    return signing_permission_refusal(step, user, at=at)


def signing_permission_refusal(step: ApprovalStep, user, *,
                               at=None) -> tuple[str | None, Authority | None]:
    """`signing_refusal` without the step's state: whether `user` may ever decide this step.

    Services check this first (403), then the state (409): a wrong-role caller learns "not
    you", never whether the step happens to be open (CONVENTIONS: permission before state)."""
    application = step.route.application
    if not user.is_authenticated or not user.is_active:
        return _("Sign in to sign."), None
    branches = visible_branch_ids(viewer=user)
    if branches is not None and application.branch_id not in branches:
        return _("This application belongs to a branch outside your authority."), None
    if user.pk in involved_user_ids(application):
        return _("You prepared, investigated or reviewed this application: you may not "
                 "sign it (segregation of duties)."), None
    participants = route_participant_ids(step)
    if user.pk in participants:
        return _("You have already signed this application at another level."), None

    if step.kind == StepKind.COMMITTEE:
        if not CommitteeMember.objects.filter(committee_id=step.committee_id,
                                              user=user).exists():
            return _("You do not sit on this committee."), None
        if Vote.objects.filter(step=step, member=user).exists():
            return _("You have already voted on this item."), None
        return None, Authority(level=user.authority_level)

    if not user.has_role(Role.APPROVER):
        return _("Only approvers sign this step."), None
    if (user.authority_level or 0) >= step.level:
        return None, Authority(level=user.authority_level)
    involved = involved_user_ids(application) | participants
    lenders = [d for d in active_delegations(delegate=user, at=at)
               if d.delegator.is_active and (d.delegator.authority_level or 0) >= step.level
               and d.delegator.pk not in involved]
    if lenders and r3_findings(application):
        return _("The investigation found an R3 red flag, which removes delegated authority: "
                 "%(delegator)s must sign in person.") % {
                     "delegator": lenders[0].delegator.display_name}, None
    if lenders:
        delegation = lenders[0]
        return None, Authority(level=delegation.delegator.authority_level,
                               on_behalf_of_id=delegation.delegator_id,
                               delegation_id=delegation.pk)
    return _("Your authority level does not reach this step."), None


def waiting_steps(user, *, at=None):
    """Steps that wait for `user`, as one query the inbox can page and count.

    Mirrors `signing_refusal` with the conflicts the database can see (account manager, opener,
    reviewer, the two investigators, earlier signatures and votes), each as an indexed column
    test or a correlated EXISTS, so the plan stays flat at 10,000 open files; the service
    re-checks every registered conflict source before a signature counts.
    """
    from apps.investigations.models import Investigation

    at = at or timezone.now()
    mine = Q(pk__in=[])
    if user.has_role(Role.APPROVER):
        # The highest level the user holds now (own, or a delegator's under a live delegation),
        # computed inside the query: no separate read of the delegations.
        lent = (active_delegations(delegate=user, at=at).order_by().values("delegate_id")
                .annotate(top=Max("delegator__authority_level")).values("top"))
        level = Greatest(Value(user.authority_level or 0),
                         Coalesce(Subquery(lent, output_field=IntegerField()), Value(0)))
        mine = Q(kind=StepKind.INDIVIDUAL, level__lte=level) & Q(GreaterThan(level, 0))
    mine |= Q(kind=StepKind.COMMITTEE, committee__in=CommitteeMember.objects.filter(
        user=user).values("committee_id"))
    steps = ApprovalStep.objects.filter(Q(state=StepState.WAITING) & mine)
    branches = visible_branch_ids(viewer=user)
    if branches is not None:
        steps = steps.filter(route__application__branch_id__in=branches)
    application = OuterRef("route__application_id")
    return (steps.exclude(route__application__account_manager=user)
            .exclude(route__application__created_by=user)
            .exclude(route__application__reviewed_by=user)
            .exclude(Exists(Investigation.objects.filter(application_id=application).filter(
                Q(lead_officer=user) | Q(assisting_officer=user))))
            .exclude(Exists(ReviewOpinion.objects.filter(application_id=application,
                                                         reviewer=user)))
            .exclude(Exists(SignOff.objects.filter(route_id=OuterRef("route_id")).filter(
                Q(signer=user) | Q(on_behalf_of=user))))
            .exclude(Exists(Vote.objects.filter(route_id=OuterRef("route_id"), member=user))))
