"""Blocks of the loan page supplied by other parts of the loan book and by apps above it.

The servicing side (repayments, days-past-due history) and monitoring (post-loan risk and
inspections) register a section from their `AppConfig.ready()`; the page shows each in order
(`repayments` 30, `dpd_history` 40, `monitoring` 60 unless the caller says otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LoanSection:
    key: str
    template: str
    context: Callable  # (request, loan) -> dict | None; None hides the section
    order: int = 100


_sections: dict[str, LoanSection] = {}

# Where the known sections stand on the page, by key.
DEFAULT_ORDER = {"repayments": 30, "dpd_history": 40, "monitoring": 60}


def register_loan_section(*, key: str, template: str, context: Callable,
                          order: int | None = None) -> None:
    """Add (or replace, by key: safe to call twice) a section of the loan page."""
    order = DEFAULT_ORDER.get(key, 100) if order is None else order
    _sections[key] = LoanSection(key=key, template=template, context=context, order=order)


def loan_sections(request, loan) -> list[dict]:
    """The registered sections in order with their data."""
    rendered = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        data = section.context(request, loan)
        if data is not None:
            rendered.append({"key": section.key, "template": section.template, "data": data})
    return rendered
