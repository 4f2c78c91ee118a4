"""A committee item that can never close: fewer eligible (non-recused) members than the quorum.

Recusals are per file (whoever prepared, investigated, reviewed or signed another level), so a
committee whose pool is just big enough in general can be short on one file. Left alone such an
item would wait for its deadline and only then reach a team lead; instead it is found when the
step opens and re-checked at each vote, stamped once, audited, and the branch's team leads are
told at once (they add members to the pool or send the file on another way). The dossier shows
the reason to everyone looking at the item and the inbox marks it.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.approvals.models import ApprovalStep, CommitteeMember, StepKind
from apps.approvals.services.notifications import _mail, team_leads_of
from apps.approvals.sod import involved_user_ids, route_participant_ids
from apps.approvals.states import StepState
from apps.audit.services import audit_record


def eligible_member_ids(step: ApprovalStep) -> set[int]:
    """The committee's pool minus recusals (conflicts and other levels of this route)."""
    excluded = involved_user_ids(step.route.application) | route_participant_ids(step)
    return set(CommitteeMember.objects.filter(committee_id=step.committee_id,
                                              user__is_active=True)
               .exclude(user_id__in=excluded).values_list("user_id", flat=True))


def quorum_impossible_reason(step: ApprovalStep, *, eligible: int | None = None) -> str | None:
    """Why the waiting committee item can never close, or None when it can."""
    if step.kind != StepKind.COMMITTEE or step.state != StepState.WAITING:
        return None
    if eligible is None:
        eligible = len(eligible_member_ids(step))
    quorum = step.committee.quorum
    if eligible >= quorum:
        return None
    return _("The quorum cannot be reached: %(eligible)s member(s) of %(committee)s may vote on "
             "this file (the others are recused), and %(quorum)s votes are needed. A team lead "
             "must add members to the committee.") % {
                 "eligible": eligible, "committee": step.committee.name, "quorum": quorum}


def quorum_check(*, step: ApprovalStep, actor) -> bool:
    """Flag, audit and escalate an item whose quorum became impossible (once per step).

    The caller holds the step (it just opened it, or locked it to count a vote)."""
    if step.quorum_impossible_at is not None:
        return False
    eligible = eligible_member_ids(step) if step.kind == StepKind.COMMITTEE else set()
    reason = quorum_impossible_reason(step, eligible=len(eligible))
    if reason is None:
        return False
    step.quorum_impossible_at = timezone.now()
    step.save(update_fields=["quorum_impossible_at", "updated_at"])
    application = step.route.application
    leads = team_leads_of(application)
    _mail(step, leads, _("Quorum impossible: %(reference)s") % {
        "reference": application.reference}, reason)
    audit_record(action="approval_step.quorum_impossible", actor=actor, subject=step, payload={
        "application": application.reference, "committee": step.committee.code,
        "quorum": step.committee.quorum, "eligible": sorted(eligible),
        "team_leads": [lead.pk for lead in leads]})
    return True
