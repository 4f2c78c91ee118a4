"""Committee steps: named sealed ballots, quorum and pass rule as data, recusal, dissent, and
a chair who closes the vote but cannot decide it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.accounts.roles import Role
from apps.applications.states import ApplicationState as S
from apps.approvals.models import Committee, CommitteeMember, PassRule, Vote
from apps.approvals.seed import BRANCH_COMMITTEE
from apps.approvals.services import (
    QuorumNotReached,
    committee_session_schedule,
    committee_tally,
    committee_vote_cast,
    committee_vote_close,
)
from apps.approvals.services.committee import Tally
from apps.approvals.states import RouteState, StepState
from apps.approvals.tests.factories import PASSWORD, give_role, in_approval
from apps.audit.models import AuditEvent

MEMBERS = ["committee.north", "committee2.north", "committee3.north", "committee4.north"]


def _vote(step, world, username, choice, opinion=""):
    return committee_vote_cast(step_id=step.pk, actor=world.user(username), password=PASSWORD,
                               choice=choice, opinion=opinion or ("" if choice == "approve"
                                                                  else "Too risky."))


@pytest.fixture
def committee_step(world):
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    return application, route, route.steps.get()


@pytest.mark.parametrize(("rule", "votes", "outcome"), [
    # 4 eligible members, quorum 3
    (PassRule.TWO_THIRDS_ALL, ["approve", "approve", "approve"], "approved"),
    (PassRule.TWO_THIRDS_ALL, ["approve", "reject", "reject"], "rejected"),
    (PassRule.TWO_THIRDS_ALL, ["approve", "approve", "reject", "approve"], "approved"),
    (PassRule.TWO_THIRDS_ALL, ["approve", "approve", "reject", "reject"], "rejected"),
    (PassRule.SIMPLE_MAJORITY, ["approve", "approve", "reject", "reject"], "rejected"),
    (PassRule.SIMPLE_MAJORITY, ["approve", "approve", "reject", "approve"], "approved"),
    (PassRule.TWO_THIRDS_PRESENT, ["approve", "approve", "reject", "approve"], "approved"),
    (PassRule.TWO_THIRDS_PRESENT, ["approve", "reject", "reject", "approve"], "rejected"),
])
def test_quorum_and_pass_rule_decide(world, committee_step, rule, votes, outcome):
    application, route, step = committee_step
    Committee.objects.filter(pk=step.committee_id).update(pass_rule=rule)
    for member, choice in zip(MEMBERS, votes, strict=False):
        _vote(step, world, member, choice)
    step.refresh_from_db()
    application.refresh_from_db()
    assert step.state == outcome
    assert application.state == (S.APPROVED if outcome == "approved" else S.REJECTED)
    dissent = set(Vote.objects.filter(step=step, is_dissent=True)
                  .values_list("choice", flat=True))
    assert dissent <= {"reject" if outcome == "approved" else "approve"}
    closed = AuditEvent.objects.get(action="committee.vote_closed")
    assert closed.payload["outcome"] == ("approve" if outcome == "approved" else "reject")
    assert len(closed.payload["votes"]) == len(Vote.objects.filter(step=step))


def test_the_chair_closes_but_cannot_override(world, committee_step):
    application, route, step = committee_step
    Committee.objects.filter(pk=step.committee_id).update(pass_rule=PassRule.TWO_THIRDS_PRESENT)
    _vote(step, world, "committee2.north", "approve")
    _vote(step, world, "committee3.north", "reject", "Collateral thin.")
    with pytest.raises(QuorumNotReached):
        committee_vote_close(step_id=step.pk, actor=world.user("committee.north"))
    _vote(step, world, "committee4.north", "reject", "Agree with the dissent.")
    with pytest.raises(PermissionDenied):  # not the chair
        committee_vote_close(step_id=step.pk, actor=world.user("committee2.north"))
    committee_vote_close(step_id=step.pk, actor=world.user("committee.north"))
    step.refresh_from_db()
    route.refresh_from_db()
    assert step.state == StepState.REJECTED and route.state == RouteState.REJECTED
    assert list(Vote.objects.filter(is_dissent=True).values_list("member__username",
                                                                 flat=True)) == [
        "committee2.north"]


def test_no_one_votes_twice_and_a_no_needs_reasons(world, committee_step):
    application, route, step = committee_step
    _vote(step, world, "committee2.north", "approve")
    with pytest.raises(PermissionDenied, match="already voted"):
        _vote(step, world, "committee2.north", "approve")
    with pytest.raises(ValidationError):
        committee_vote_cast(step_id=step.pk, actor=world.user("committee3.north"),
                            password=PASSWORD, choice="reject", opinion="")


def test_conflicted_members_are_recused_and_do_not_count(world):
    am = give_role(world.user("am.north"), Role.COMMITTEE_MEMBER)
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    CommitteeMember.objects.create(committee=step.committee, user=am)
    with pytest.raises(PermissionDenied, match="segregation"):
        committee_vote_cast(step_id=step.pk, actor=am, password=PASSWORD, choice="approve")
    assert committee_tally(step).eligible == 4
    outsider = world.user("committee.south")
    with pytest.raises(PermissionDenied, match="branch|committee"):
        committee_vote_cast(step_id=step.pk, actor=outsider, password=PASSWORD,
                            choice="approve")


def test_ballots_are_sealed_in_the_trail_until_close(world, committee_step):
    application, route, step = committee_step
    _vote(step, world, "committee2.north", "reject", "No.")
    cast = AuditEvent.objects.get(action="committee.vote_cast")
    assert "choice" not in cast.payload and "signature" in cast.payload


def test_a_session_agenda_holds_waiting_items_of_its_committee(world, committee_step):
    application, route, step = committee_step
    chair = world.user("committee.north")
    session = committee_session_schedule(committee=step.committee, scheduled_for=timezone.now(),
                                         step_ids=[step.pk], actor=chair)
    step.refresh_from_db()
    assert step.session == session
    with pytest.raises(PermissionDenied):
        committee_session_schedule(committee=step.committee, scheduled_for=timezone.now(),
                                   step_ids=[step.pk], actor=world.user("approver.north"))


@pytest.mark.parametrize(("tally", "passes", "settled"), [
    (Tally(eligible=5, cast=2, approve=2, reject=0, quorum=3, rule="two_thirds_all"), False,
     False),
    (Tally(eligible=5, cast=4, approve=4, reject=0, quorum=3, rule="two_thirds_all"), True,
     True),
    (Tally(eligible=5, cast=3, approve=1, reject=2, quorum=3, rule="two_thirds_all"), False,
     True),
    (Tally(eligible=5, cast=3, approve=2, reject=1, quorum=3, rule="simple_majority"), True,
     False),
    (Tally(eligible=3, cast=3, approve=2, reject=1, quorum=3, rule="two_thirds_present"), True,
     True),
])
def test_tally_arithmetic(tally, passes, settled):
    assert tally.passes is passes and tally.settled is settled
