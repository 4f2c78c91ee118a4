"""Registries through which other modules plug into the risk half of monitoring without
being imported by it (as `apps.applications.guards` does for later apps).

- Special inspections: the inspections code registers `fn(loan, *, due_date, reason)` in its
  `AppConfig.ready()`; a "special check" action calls `request_special_inspection`, inside
  the transaction that opened the action (a failure rolls the action back with it).
- Work-list blocks: `fn(request) -> {"template", "context"} | None` adds a block to the
  post-loan officer's work list (`/monitoring/`), e.g. inspections due. The block's template
  is rendered with its own context (and the request) and brings its own heading.
- Loan-panel blocks: the same for the loan's monitoring panel (inspections on the loan).
"""

import datetime as dt
from collections.abc import Callable

from django.template.loader import render_to_string

_special_inspection: list[Callable] = []
_worklist_blocks: list[Callable] = []
_loan_panel_blocks: list[Callable] = []


def register_special_inspection(fn: Callable) -> None:
    """`fn(loan, *, due_date, reason)` creates a special inspection request for the loan."""
    if fn not in _special_inspection:
        _special_inspection.append(fn)


def unregister_special_inspection(fn: Callable) -> None:
    if fn in _special_inspection:
        _special_inspection.remove(fn)


def request_special_inspection(loan, due_date: dt.date, reason: str) -> int:
    """Ask every registered inspections provider for a special check; returns how many
    answered (0 until the inspections code registers: the action still stands on its own)."""
    for fn in _special_inspection:
        fn(loan, due_date=due_date, reason=reason)
    return len(_special_inspection)


def register_worklist_block(fn: Callable) -> None:
    if fn not in _worklist_blocks:
        _worklist_blocks.append(fn)


def _rendered(block: dict, request) -> dict:
    return {**block, "html": render_to_string(block["template"], block["context"],
                                              request=request)}


def worklist_blocks(request) -> list[dict]:
    """Each registered block with its `html`, in registration order."""
    return [_rendered(block, request) for fn in _worklist_blocks if (block := fn(request))]


def register_loan_panel_block(fn: Callable) -> None:
    """`fn(loan, viewer) -> {"title", "template", "context"} | None`."""
    if fn not in _loan_panel_blocks:
        _loan_panel_blocks.append(fn)


def loan_panel_blocks(loan, viewer, request=None) -> list[dict]:
    return [_rendered(block, request) for fn in _loan_panel_blocks
            if (block := fn(loan, viewer))]
