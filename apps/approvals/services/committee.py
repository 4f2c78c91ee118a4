"""Credit committee decisions (贷审会, §6.2): named ballots, quorum and pass rule as data.

One person, one vote; the ballots stay sealed until the vote closes; the chair closes the vote
but cannot decide it (closing only counts); a vote against the outcome is kept as dissent.
Members who prepared, investigated, reviewed or signed another level of the file are recused and
do not count towards the quorum or the base of "two thirds of all members".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.approvals.models import (
    ApprovalStep,
    CommitteeMember,
    CommitteeSession,
    Decision,
    PassRule,
    StepKind,
    Vote,
    VoteChoice,
)
from apps.approvals.services.decisions import lock_step, step_decided
from apps.approvals.services.quorum import (
    eligible_member_ids,
    quorum_check,
    quorum_impossible_reason,
)
from apps.approvals.services.signoff import REASON_MAX_LENGTH, password_confirm
from apps.approvals.signing import sign
from apps.approvals.sod import involved_user_ids, signing_permission_refusal
from apps.approvals.states import StepState
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError, TransitionConflict


class QuorumNotReached(DomainError):
    code = "quorum_not_reached"
    status_code = 409


@dataclass(frozen=True)
class Tally:
    eligible: int
    cast: int
    approve: int
    reject: int
    quorum: int
    rule: str

    @property
    def quorate(self) -> bool:
        return self.cast >= self.quorum

    @property
    def passes(self) -> bool:
        """The pass rule applied to the votes counted so far."""
        if not self.quorate:
            return False
        if self.rule == PassRule.TWO_THIRDS_ALL:
            return 3 * self.approve >= 2 * self.eligible
        if self.rule == PassRule.TWO_THIRDS_PRESENT:
            return 3 * self.approve >= 2 * self.cast
        return 2 * self.approve > self.cast

    @property
    def settled(self) -> bool:
        """No further vote can change the result: everyone eligible voted, or (for "two thirds
        of all") the approvals already suffice or can no longer suffice."""
        if self.cast >= self.eligible:
            return True
        if self.rule == PassRule.TWO_THIRDS_ALL and self.quorate:
            return self.passes or 3 * (self.eligible - self.reject) < 2 * self.eligible
        return False


def committee_tally(step: ApprovalStep) -> Tally:
    eligible = eligible_member_ids(step)
    votes = list(Vote.objects.filter(step=step, member_id__in=eligible)
                 .values_list("choice", flat=True))
    return Tally(eligible=len(eligible), cast=len(votes),
                 approve=sum(1 for v in votes if v == VoteChoice.APPROVE),
                 reject=sum(1 for v in votes if v == VoteChoice.REJECT),
                 quorum=step.committee.quorum, rule=step.committee.pass_rule)


def _close(step: ApprovalStep, tally: Tally, actor) -> None:
    outcome = VoteChoice.APPROVE if tally.passes else VoteChoice.REJECT
    Vote.objects.filter(step=step).exclude(choice=outcome).update(is_dissent=True)
    opinions = [f"{vote.member.display_name}: {vote.opinion}" for vote in
                Vote.objects.filter(step=step).select_related("member") if vote.opinion]
    audit_record(action="committee.vote_closed", actor=actor, subject=step, payload={
        "outcome": outcome, "eligible": tally.eligible, "cast": tally.cast,
        "approve": tally.approve, "reject": tally.reject, "quorum": tally.quorum,
        "rule": tally.rule,
        "votes": list(Vote.objects.filter(step=step).values("member_id", "choice",
                                                          "is_dissent"))})
    reason = _("Committee %(committee)s: %(approve)s for, %(reject)s against.") % {
        "committee": step.committee.name, "approve": tally.approve, "reject": tally.reject}
    if opinions:
        reason += "\n" + "\n".join(opinions)
    step_decided(step=step, actor=actor, reason=reason,
                 decision=Decision.APPROVE if tally.passes else Decision.REJECT)


def committee_vote_cast(*, step_id: int, actor, password: str, choice: str,
                        opinion: str = "") -> Vote:
    """Cast a named, signed ballot; the vote closes itself once the result is settled."""
    password_confirm(actor=actor, password=password, step_id=step_id)
    return _vote_cast(step_id=step_id, actor=actor, choice=choice, opinion=opinion)


@transaction.atomic
def _vote_cast(*, step_id, actor, choice, opinion) -> Vote:
    application, step = lock_step(step_id)
    if step.kind != StepKind.COMMITTEE:
        raise TransitionConflict(detail=_("This step is signed by an approver, not voted on."))
    # Permission (403) before state (409).
    refusal, _authority = signing_permission_refusal(step, actor)
    if refusal:
        raise PermissionDenied(refusal)
    if step.state != StepState.WAITING:
        raise TransitionConflict(detail=_("There is no open vote on this step."))
    errors = {}
    if choice not in VoteChoice.values:
        errors["choice"] = _("Vote approve or reject.")
    if choice == VoteChoice.REJECT and not opinion.strip():
        errors["opinion"] = _("Give the reasons for a vote against.")
    if len(opinion) > REASON_MAX_LENGTH:
        errors["opinion"] = _("At most %(max)s characters.") % {"max": REASON_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    content, signature = sign({
        "application": application.reference, "route": step.route_id, "step": step.position,
        "member": actor.pk, "choice": choice, "opinion": opinion.strip(), "cast_at": now})
    vote = Vote.objects.create(step=step, route=step.route, member=actor, choice=choice,
                               opinion=opinion.strip(), cast_at=now, content=content,
                               signature=signature)
    # Sealed ballots: the trail records that the member voted; the choices appear at close.
    audit_record(action="committee.vote_cast", actor=actor, subject=step,
                 application_id=application.pk, branch_id=application.branch_id,
                 enterprise_id=application.enterprise_id,
                 payload={"vote": vote.pk, "signature": signature})
    tally = committee_tally(step)
    if tally.settled and tally.quorate:
        _close(step, tally, actor)
    else:
        # Recusals can change after the item opened (a member deactivated, a new conflict).
        quorum_check(step=step, actor=actor)
    return vote


@transaction.atomic
def committee_vote_close(*, step_id: int, actor) -> ApprovalStep:
    """The chair closes the vote once the quorum has voted; the pass rule decides."""
    _application, step = lock_step(step_id)
    if step.kind != StepKind.COMMITTEE:  # an individual step has no vote to close
        raise TransitionConflict(detail=_("There is no open vote on this step."))
    # Permission (403) before state (409).
    if not CommitteeMember.objects.filter(committee_id=step.committee_id, user=actor,
                                          is_chair=True).exists():
        raise PermissionDenied(_("Only the committee's chair closes a vote."))
    if actor.pk in involved_user_ids(step.route.application):
        raise PermissionDenied(_("You are recused from this item."))
    if step.state != StepState.WAITING:
        raise TransitionConflict(detail=_("There is no open vote on this step."))
    tally = committee_tally(step)
    if not tally.quorate:
        impossible = quorum_impossible_reason(step, eligible=tally.eligible)
        raise QuorumNotReached(impossible or _("%(cast)s of the %(quorum)s votes needed have "
                                               "been cast.")
                               % {"cast": tally.cast, "quorum": tally.quorum})
    _close(step, tally, actor)
    return step


@transaction.atomic
def committee_session_schedule(*, committee, scheduled_for, step_ids, actor) -> CommitteeSession:
    """Put waiting committee items on a session's agenda (the chair or a member does this)."""
    if not CommitteeMember.objects.filter(committee=committee, user=actor).exists():
        raise PermissionDenied(_("Only members schedule the committee's sessions."))
    session = CommitteeSession.objects.create(committee=committee, scheduled_for=scheduled_for,
                                              created_by=actor)
    steps = ApprovalStep.objects.select_for_update(no_key=True).filter(
        pk__in=step_ids, committee=committee, state=StepState.WAITING)
    if len(steps) != len(set(step_ids)):
        raise ValidationError({"step_ids": _("Only items waiting for this committee can be "
                                             "put on its agenda.")})
    steps.update(session=session)
    audit_record(action="committee.session_scheduled", actor=actor, subject=session,
                 payload={"committee": committee.code, "scheduled_for": scheduled_for,
                          "agenda": sorted(step_ids)})
    return session
