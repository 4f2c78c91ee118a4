"""A reviewed inspection's requested actions open real monitoring actions (§4.2 → §4.4):
owner the loan's officer, deadline from the level table's policy, done with evidence through
the action state machine; idempotent, audited and scoped to the loan and branch."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_services import (
    inspection_review,
    inspection_schedule_generate,
    inspection_start,
    inspection_submit,
)
from apps.monitoring.inspection_states import RequestedAction
from apps.monitoring.models import Action, LevelActionRule, Signal
from apps.monitoring.policy import K
from apps.monitoring.services.actions import action_complete, actions_open_requested
from apps.monitoring.states import ActionKind, ActionState
from apps.monitoring.tests.inspections.inspection_factories import (
    answer_all_m1,
    make_loan,
)
from apps.monitoring.wiring import REQUESTED_ACTION_KINDS

pytestmark = pytest.mark.django_db


def _reviewed(world, *, actions, reviewer="lead.north"):
    """A clean first check (funds as agreed, cooperative: no signal) concluded with `actions`
    and confirmed by a second person."""
    officer = world.user("postloan.north")
    loan = make_loan(world)
    inspection_schedule_generate(loan_id=loan.pk)
    m1 = Inspection.objects.get(loan=loan, kind="m1")
    inspection_start(inspection_id=m1.pk, actor=officer)
    answer_all_m1(m1, officer)
    inspection_submit(inspection_id=m1.pk, actor=officer, proposed_class="normal",
                      class_reason="Funds used as agreed.", actions=actions)
    inspection_review(inspection_id=m1.pk, actor=world.user(reviewer), note="Agreed.")
    return loan, m1


def test_every_requested_action_maps_to_an_action_kind():
    assert set(REQUESTED_ACTION_KINDS) == set(RequestedAction.values)
    assert set(REQUESTED_ACTION_KINDS.values()) <= set(ActionKind.values)
    assert REQUESTED_ACTION_KINDS[RequestedAction.TRANSFER_TO_WORKOUT] == ActionKind.WORKOUT


def test_review_opens_the_requested_actions_with_owner_and_policy_deadline(world):
    loan, m1 = _reviewed(world, actions=["contact", "stop_drawdowns", "transfer_to_workout"])
    assert not Signal.objects.filter(loan=loan).exists()  # the actions come from the conclusion
    today = timezone.localdate()
    opened = {a.kind: a for a in Action.objects.filter(loan=loan)}
    assert set(opened) == {"contact", "stop_drawdowns", "workout"}
    # Each takes the lowest level requiring it in the seeded table, and that level's deadline.
    assert {k: a.level for k, a in opened.items()} == {
        "contact": 1, "stop_drawdowns": 2, "workout": 3}
    assert opened["contact"].due_date == today + dt.timedelta(days=5)
    assert opened["stop_drawdowns"].due_date == today + dt.timedelta(days=10)
    assert opened["stop_drawdowns"].deadline_policy == {K.deadline(2): 1}
    for action in opened.values():
        assert action.state == ActionState.OPEN and action.owner_id == loan.officer_id
        assert action.branch_id == loan.branch_id and action.signal_id is None
    event = AuditEvent.objects.get(action="monitoring_action.opened")
    assert event.payload["source"] == f"inspection {m1.pk}" and event.payload["count"] == 3
    assert event.branch_id == loan.branch_id and event.application_id == loan.application_id
    assert event.actor_id == world.user("lead.north").pk


def test_opening_is_idempotent_and_the_action_is_done_with_evidence(world):
    loan, m1 = _reviewed(world, actions=["extra_collateral"])
    again, gaps = actions_open_requested(loan_id=loan.pk, kinds=["extra_collateral"],
                                         on=timezone.localdate(), source="retry")
    assert again == [] and gaps == []
    action = Action.objects.get(loan=loan)
    assert AuditEvent.objects.filter(action="monitoring_action.opened").count() == 1
    officer = world.user("postloan.north")
    with pytest.raises(ValidationError):
        action_complete(action_id=action.pk, actor=officer, note=" ")
    done = action_complete(action_id=action.pk, actor=officer,
                           note="Guarantee from the owner signed on site.")
    assert done.state == ActionState.DONE and done.done_by == officer
    # Done, the kind may be asked for again by a later conclusion.
    reopened, _gaps = actions_open_requested(loan_id=loan.pk, kinds=["extra_collateral"],
                                             on=timezone.localdate(), source="later")
    assert [a.kind for a in reopened] == ["extra_collateral"]


def test_a_requested_special_check_schedules_a_special_inspection(world):
    loan, _m1 = _reviewed(world, actions=["special_check"])
    action = Action.objects.get(loan=loan, kind="special_check")
    special = Inspection.objects.get(loan=loan, kind="special")
    assert special.due_date <= action.due_date
    assert "conclusion" in special.reason


def test_a_kind_without_a_deadline_in_force_is_reported_not_guessed(world):
    LevelActionRule.objects.filter(kind=ActionKind.FREEZE).delete()
    loan, _m1 = _reviewed(world, actions=["freeze", "contact"])
    assert list(Action.objects.filter(loan=loan).values_list("kind", flat=True)) == ["contact"]
    event = AuditEvent.objects.get(action="monitoring_action.opened")
    assert event.payload["not_opened"] == ["freeze"]
    # Before the table and its deadlines were in force: nothing to take a deadline from.
    on_day = dt.date(2020, 1, 1)
    opened, gaps = actions_open_requested(loan_id=loan.pk, kinds=["stop_drawdowns"],
                                          on=on_day, source="before any policy")
    assert opened == [] and gaps == ["stop_drawdowns"]


def test_an_action_the_signals_opened_keeps_its_level_and_deadline(world):
    """W18 (uncooperative, L2) opens its mandatory actions first; the conclusion asking for a
    contact does not open a second, looser one."""
    officer = world.user("postloan.north")
    loan = make_loan(world)
    inspection_schedule_generate(loan_id=loan.pk)
    m1 = Inspection.objects.get(loan=loan, kind="m1")
    inspection_start(inspection_id=m1.pk, actor=officer)
    answer_all_m1(m1, officer, COOPERATION="uncooperative")
    inspection_submit(inspection_id=m1.pk, actor=officer, proposed_class="special_mention",
                      class_reason="Uncooperative.", actions=["contact", "freeze"])
    inspection_review(inspection_id=m1.pk, actor=world.user("reviewer.north"))
    contact = Action.objects.get(loan=loan, kind="contact")
    assert contact.level == 2 and contact.signal is not None
    freeze = Action.objects.get(loan=loan, kind="freeze")
    assert freeze.level == 3 and freeze.signal is None
