"""The transition table: every state × transition against the explicit ALLOWED set."""

import pytest
from django_fsm import can_proceed

from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World

TRANSITIONS = ["submit", "start_investigation", "send_to_review", "return_for_rework",
               "resume_investigation", "send_to_approval", "approve", "reject", "contract",
               "disburse", "withdraw", "expire"]

ALLOWED = {
    (S.DRAFT, "submit"), (S.DRAFT, "withdraw"), (S.DRAFT, "expire"),
    (S.SUBMITTED, "start_investigation"), (S.SUBMITTED, "withdraw"),
    (S.INVESTIGATING, "send_to_review"), (S.INVESTIGATING, "withdraw"),
    (S.UNDER_REVIEW, "send_to_approval"), (S.UNDER_REVIEW, "return_for_rework"),
    (S.UNDER_REVIEW, "reject"), (S.UNDER_REVIEW, "withdraw"),
    (S.IN_APPROVAL, "approve"), (S.IN_APPROVAL, "reject"), (S.IN_APPROVAL, "return_for_rework"),
    (S.RETURNED, "resume_investigation"), (S.RETURNED, "withdraw"),
    (S.APPROVED, "contract"), (S.APPROVED, "expire"),
    (S.CONTRACTED, "disburse"),
}


def test_every_transition_is_in_the_table():
    declared = {t.name for t in Application._meta.get_field("state").get_all_transitions(
        Application)}
    assert declared == set(TRANSITIONS)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_transition_table(state, transition):
    application = Application()
    application.__dict__["state"] = state  # bypass protection for a table check only
    allowed = can_proceed(getattr(application, transition), check_conditions=False)
    assert allowed == ((state, transition) in ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(S))
def test_every_state_is_reachable_through_the_services(state):
    assert World().in_state(state).state == state
