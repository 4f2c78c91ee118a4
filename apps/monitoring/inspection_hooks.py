"""Where inspections meet the early-warning signals, without importing each other's modules.

Two developers build the monitoring app in parallel; this registry is the seam:

- The signals side registers a signal raiser (`register_signal_raiser`). Inspections call
  `raise_signal(...)` when a deadline is missed (W_INSPECTION_OVERDUE, §4.1: "a missed deadline
  is itself a signal") and may call it for W17/W18 findings. With no raiser registered the call
  records nothing and returns False, so inspections work on their own.
- Inspections register the special-check requester (`register_special_check_requester`, done in
  `MonitoringConfig.ready()`); the signals side calls `request_special_check(...)` for a level-2
  or level-3 signal (§4.4: special check on site within N days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

# Catalogue code of the "inspection overdue" signal (§4.1 / §4.5); the signals catalogue may
# map it to its own code.
INSPECTION_OVERDUE_SIGNAL = "W_INSPECTION_OVERDUE"

SignalRaiser = Callable[..., Any]
_signal_raisers: list[SignalRaiser] = []
_special_check_requester: Callable[..., Any] | None = None


def register_signal_raiser(fn: SignalRaiser) -> None:
    """`fn(*, loan_id, code, source, observed, actor)`; called in the caller's transaction."""
    if fn not in _signal_raisers:
        _signal_raisers.append(fn)


def unregister_signal_raiser(fn: SignalRaiser) -> None:
    if fn in _signal_raisers:
        _signal_raisers.remove(fn)


def raise_signal(loan_id: int, *, code: str, source: str, observed: dict | None = None,
                 actor=None) -> bool:
    """Hand a signal to every registered raiser; False when none is registered."""
    for fn in list(_signal_raisers):
        fn(loan_id=loan_id, code=code, source=source, observed=observed or {}, actor=actor)
    return bool(_signal_raisers)


_conclusion_listeners: list[Callable[..., Any]] = []


def register_conclusion_listener(fn: Callable[..., Any]) -> None:
    """`fn(inspection, *, actor)`, called inside the review's transaction once a second person
    has confirmed the conclusion (the risk engine turns it into signals and a proposal)."""
    if fn not in _conclusion_listeners:
        _conclusion_listeners.append(fn)


def conclusion_reviewed(inspection, *, actor) -> None:
    for fn in list(_conclusion_listeners):
        fn(inspection, actor=actor)


def register_special_check_requester(fn: Callable[..., Any]) -> None:
    global _special_check_requester
    _special_check_requester = fn


def request_special_check(*, loan_id: int, reason: str, due_date: dt.date | None = None,
                          actor=None):
    """Ask for a special check on the loan (the signals side calls this for L2/L3)."""
    if _special_check_requester is None:
        raise RuntimeError("no special-check requester is registered")
    return _special_check_requester(loan_id=loan_id, due_date=due_date, reason=reason,
                                    actor=actor)
