"""Permission (403) before state (409): a caller without the right is told "not you",
whatever state the record is in; one with the right is told "not now" (issue #16)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from apps.applications import services as application_services
from apps.applications.states import ApplicationState as S
from apps.approvals.seed import BRANCH_COMMITTEE
from apps.approvals.services import (
    committee_vote_cast,
    committee_vote_close,
    review_send_to_approval,
    step_sign,
)
from apps.approvals.states import StepState
from apps.approvals.tests.factories import PASSWORD, in_approval
from apps.core.exceptions import TransitionConflict


def _sign(step, user):
    return step_sign(step_id=step.pk, actor=user, password=PASSWORD, decision="approve",
                     reason="Cash flow is sound.", amount=Decimal("400000"))


def _vote(step, user, choice="approve"):
    return committee_vote_cast(step_id=step.pk, actor=user, password=PASSWORD, choice=choice)


def test_sign_a_decided_step_wrong_role_403(world):
    _application, route = in_approval(world)
    step = route.steps.get()
    _sign(step, world.user("approver.north"))
    step.refresh_from_db()
    assert step.state != StepState.WAITING
    with pytest.raises(PermissionDenied):
        _sign(step, world.user("postloan.north"))


def test_vote_on_a_closed_item_wrong_role_403_member_409(world):
    _application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    for username in ("committee.north", "committee2.north", "committee3.north"):
        _vote(step, world.user(username))
    step.refresh_from_db()
    assert step.state != StepState.WAITING
    with pytest.raises(PermissionDenied):
        _vote(step, world.user("postloan.north"))
    with pytest.raises(TransitionConflict):
        _vote(step, world.user("committee4.north"))


def test_close_a_closed_vote_not_chair_403(world):
    _application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    for username in ("committee.north", "committee2.north", "committee3.north"):
        _vote(step, world.user(username))
    with pytest.raises(PermissionDenied):
        committee_vote_close(step_id=step.pk, actor=world.user("committee2.north"))
    with pytest.raises(TransitionConflict):
        committee_vote_close(step_id=step.pk, actor=world.user("committee.north"))


def test_review_an_application_not_under_review_wrong_role_403(world):
    application = world.draft()
    with pytest.raises(PermissionDenied):
        review_send_to_approval(application_id=application.pk, actor=world.user("am.north"),
                                risks="None.")
    with pytest.raises(TransitionConflict):
        review_send_to_approval(application_id=application.pk,
                                actor=world.user("reviewer.north"), risks="None.")


def test_edit_an_application_in_approval_wrong_role_403(world):
    application, _route = in_approval(world)
    with pytest.raises(PermissionDenied):
        application_services.application_update(application_id=application.pk,
                                                actor=world.user("reviewer.north"),
                                                purpose="x")
    with pytest.raises(TransitionConflict):
        application_services.application_update(application_id=application.pk,
                                                actor=world.user("am.north"), purpose="x")


def test_transition_check_approve_a_draft_wrong_role_403(world):
    """apps.core.fsm.transition_check: permission is judged whatever the state."""
    application = world.draft()
    assert application.state == S.DRAFT
    with pytest.raises(PermissionDenied):
        application_services.application_approve(application_id=application.pk,
                                                 actor=world.user("am.north"), reason="x")
    with pytest.raises(TransitionConflict):
        application_services.application_approve(application_id=application.pk,
                                                 actor=world.user("approver.north"),
                                                 reason="x")
