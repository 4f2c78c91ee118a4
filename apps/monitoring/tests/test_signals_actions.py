"""Signals de-duplicated per loan and code; level → mandatory actions; L3 close needs a
second person; actions done with evidence, waived by a second person, overdue by sweep."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.monitoring import hooks
from apps.monitoring.models import Action, LoanRiskStatus, Signal
from apps.monitoring.services.actions import (
    action_complete,
    action_waive,
    actions_overdue_sweep,
)
from apps.monitoring.services.signals import (
    signal_acknowledge,
    signal_close,
    signal_close_decide,
    signal_raise,
)


@pytest.fixture
def inspections():
    asked = []

    def provider(loan, *, due_date, reason):
        asked.append((loan.pk, due_date, reason))

    hooks.register_special_inspection(provider)
    yield asked
    hooks.unregister_special_inspection(provider)


def test_l3_signal_opens_level_three_actions(world, inspections):
    loan = world.loan()
    signal = signal_raise(loan_id=loan.pk, code="W17", observed="paid to a stock broker",
                          baseline="raw materials", source="first check")
    assert (signal.level, signal.state, signal.rule.version) == (3, "open", 1)
    actions = {a.kind: a for a in Action.objects.filter(loan=loan)}
    assert set(actions) == {"contact", "special_check", "freeze", "workout"}
    assert {a.owner_id for a in actions.values()} == {loan.officer_id}
    assert actions["freeze"].due_date == timezone.localdate() + dt.timedelta(days=5)
    assert actions["freeze"].deadline_policy == {"monitoring.action.deadline_days.l3": 1}
    assert inspections == [(loan.pk, actions["special_check"].due_date, inspections[0][2])]
    assert LoanRiskStatus.objects.get(loan=loan).warning_level == 3


def test_same_code_updates_the_open_signal(world, inspections):
    loan = world.loan()
    first = signal_raise(loan_id=loan.pk, code="W18", observed="refused", source="check")
    again = signal_raise(loan_id=loan.pk, code="W18", observed="refused again", source="check")
    assert first.pk == again.pk
    assert Signal.objects.filter(loan=loan).count() == 1
    assert Signal.objects.get(pk=first.pk).observed == "refused again"
    # L2 actions were opened once, not twice
    assert Action.objects.filter(loan=loan, kind="contact").count() == 1


def test_rising_level_adds_missing_actions_only(world, inspections):
    loan = world.loan()
    signal_raise(loan_id=loan.pk, code="W18", observed="refused", source="check")
    assert Action.objects.filter(loan=loan).count() == 4  # L2 table
    signal_raise(loan_id=loan.pk, code="W17", observed="diverted", source="check")
    kinds = sorted(Action.objects.filter(loan=loan).values_list("kind", flat=True))
    assert kinds == ["contact", "extra_collateral", "freeze", "special_check",
                     "stop_drawdowns", "workout"]


def test_l3_close_needs_a_second_person(world, inspections):
    loan = world.loan()
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    signal = signal_raise(loan_id=loan.pk, code="W17", observed="diverted", source="check")
    signal_acknowledge(signal_id=signal.pk, actor=officer)
    with pytest.raises(ValidationError):
        signal_close(signal_id=signal.pk, actor=officer, note=" ")
    signal = signal_close(signal_id=signal.pk, actor=officer, note="Funds returned, receipts")
    assert signal.state == "close_requested"
    assert LoanRiskStatus.objects.get(loan=loan).warning_level == 3
    with pytest.raises(PermissionDenied):
        signal_close_decide(signal_id=signal.pk, actor=officer, confirm=True)
    signal = signal_close_decide(signal_id=signal.pk, actor=lead, confirm=True)
    assert (signal.state, signal.closed_by) == ("closed", lead)
    assert LoanRiskStatus.objects.get(loan=loan).warning_level == 0


def test_l3_close_refused_keeps_it_open(world, inspections):
    loan = world.loan()
    signal = signal_raise(loan_id=loan.pk, code="W17", observed="diverted", source="check")
    signal_close(signal_id=signal.pk, actor=world.user("postloan.north"), note="fine")
    signal = signal_close_decide(signal_id=signal.pk, actor=world.user("reviewer.north"),
                                 confirm=False, note="Receipts missing")
    assert signal.state == "acknowledged"


def test_l2_signal_closed_by_officer_with_note(world):
    loan = world.loan()
    signal = signal_raise(loan_id=loan.pk, code="W18", observed="refused", source="check")
    signal = signal_close(signal_id=signal.pk, actor=world.user("postloan.north"),
                          note="Second visit went well")
    assert signal.state == "closed"
    with pytest.raises(PermissionDenied):
        other = signal_raise(loan_id=world.loan().pk, code="W18", observed="x", source="c")
        signal_close(signal_id=other.pk, actor=world.user("postloan.south"), note="x")


def test_action_done_needs_evidence_and_waive_a_second_person(world):
    loan = world.loan()
    signal_raise(loan_id=loan.pk, code="W18", observed="refused", source="check")
    contact = Action.objects.get(loan=loan, kind="contact")
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    with pytest.raises(ValidationError):
        action_complete(action_id=contact.pk, actor=officer, note="")
    done = action_complete(action_id=contact.pk, actor=officer, note="Called the owner")
    assert done.state == "done"
    collateral = Action.objects.get(loan=loan, kind="extra_collateral")
    with pytest.raises(PermissionDenied):  # the owner cannot waive his own action
        action_waive(action_id=collateral.pk, actor=officer, reason="no")
    waived = action_waive(action_id=collateral.pk, actor=lead, reason="Guarantee in place")
    assert waived.state == "waived"


def test_overdue_sweep(world):
    loan = world.loan()
    signal_raise(loan_id=loan.pk, code="W18", observed="refused", source="check")
    later = timezone.localdate() + dt.timedelta(days=11)
    assert actions_overdue_sweep(today=later) == 4
    assert set(Action.objects.filter(loan=loan).values_list("state", flat=True)) == {"overdue"}
    action = Action.objects.filter(loan=loan).first()
    assert action_complete(action_id=action.pk, actor=world.user("postloan.north"),
                           note="late but done").state == "done"
