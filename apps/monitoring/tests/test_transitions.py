"""Transition tables: every state × transition against the allowed set (CONVENTIONS §7)."""

import pytest
from django_fsm import can_proceed

from apps.monitoring.models import Action, Classification, Signal
from apps.monitoring.states import ActionState, ClassificationState, SignalState

CLASSIFICATION = {
    ClassificationState.PROPOSED: {"confirm", "confirm_upgrade", "reject", "supersede"},
    ClassificationState.CONFIRMED: {"approve", "reject", "supersede"},
    ClassificationState.IN_FORCE: {"supersede"},
    ClassificationState.SUPERSEDED: set(),
    ClassificationState.REJECTED: set(),
}
SIGNAL = {
    SignalState.OPEN: {"acknowledge", "close", "request_close", "resolve"},
    SignalState.ACKNOWLEDGED: {"close", "request_close", "resolve"},
    SignalState.CLOSE_REQUESTED: {"confirm_close", "refuse_close", "resolve"},
    SignalState.CLOSED: set(),
}
ACTION = {
    ActionState.OPEN: {"complete", "waive", "mark_overdue"},
    ActionState.OVERDUE: {"complete", "waive"},
    ActionState.DONE: set(),
    ActionState.WAIVED: set(),
}
MACHINES = [
    (Classification, CLASSIFICATION, ["confirm", "confirm_upgrade", "approve", "reject",
                                      "supersede"]),
    (Signal, SIGNAL, ["acknowledge", "close", "request_close", "confirm_close", "refuse_close",
                      "resolve"]),
    (Action, ACTION, ["complete", "waive", "mark_overdue"]),
]


@pytest.mark.parametrize(("model", "table", "names"), MACHINES,
                         ids=[m[0].__name__ for m in MACHINES])
def test_transition_table(model, table, names):
    for state, allowed in table.items():
        instance = model(state=state)
        possible = {name for name in names
                    if can_proceed(getattr(instance, name), check_conditions=False)}
        assert possible == allowed, (state, possible)


def test_l3_close_only_by_request():
    l3, l2 = Signal(state=SignalState.OPEN, level=3), Signal(state=SignalState.OPEN, level=2)
    assert not can_proceed(l3.close) and can_proceed(l3.request_close)
    assert can_proceed(l2.close) and not can_proceed(l2.request_close)
