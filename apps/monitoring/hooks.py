"""Registries through which other modules plug into the risk half of monitoring without
being imported by it (as `apps.applications.guards` does for later apps).

- Special inspections: the inspections code registers `fn(loan, *, due_date, reason)` in its
  `AppConfig.ready()`; a "special check" action calls `request_special_inspection`, inside
  the transaction that opened the action (a failure rolls the action back with it). A
  batch provider (`register_special_inspections`, `fn(requests)`) gets a chunk's special
  checks in one call: the monthly run opens thousands, and one request each cost ~30 ms.
- Work-list blocks: `fn(request) -> {"template", "context"} | None` adds a block to the
  post-loan officer's work list (`/monitoring/`), e.g. inspections due. The block's template
  is rendered with its own context (and the request) and brings its own heading.
- Loan-panel blocks: the same for the loan's monitoring panel (inspections on the loan).
"""

import datetime as dt
from collections.abc import Callable

from django.template.loader import render_to_string

_special_inspection: list[Callable] = []
_special_inspections: list[Callable] = []
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


def register_special_inspections(fn: Callable) -> None:
    """`fn(requests)` creates special inspection requests for many loans at once, each
    request a `(loan_id, due_date, reason)` triple (the monthly run asks per chunk)."""
    if fn not in _special_inspections:
        _special_inspections.append(fn)


def unregister_special_inspections(fn: Callable) -> None:
    if fn in _special_inspections:
        _special_inspections.remove(fn)


def request_special_inspections(requests: list[tuple[int, dt.date, str]]) -> int:
    """Ask every provider for these special checks: batch providers once, one-loan
    providers per request; returns how many providers answered."""
    if not requests:
        return 0
    for fn in _special_inspections:
        fn(requests)
    if _special_inspection:
        from apps.loans.models import Loan

        loans = Loan.objects.in_bulk([loan_id for loan_id, _due, _reason in requests])
        for loan_id, due_date, reason in requests:
            request_special_inspection(loans[loan_id], due_date, reason)
    return len(_special_inspections) + len(_special_inspection)


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
