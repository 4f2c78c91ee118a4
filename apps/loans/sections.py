"""Blocks of the loan page supplied by other parts of the loan book and by apps above it.

The servicing side (repayments, days-past-due history) and monitoring (post-loan checks)
register a section from their `AppConfig.ready()`; the page shows each in order. The slots
`repayments` (order 30), `dpd_history` (40) and `monitoring` (60) are kept for them: until
they register, the page says plainly that nothing is there yet.
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

# Places reserved on the loan page for work of other developers, by key and order.
RESERVED_SLOTS = {"repayments": 30, "dpd_history": 40, "monitoring": 60}


def register_loan_section(*, key: str, template: str, context: Callable,
                          order: int | None = None) -> None:
    """Add (or replace, by key: safe to call twice) a section of the loan page."""
    order = RESERVED_SLOTS.get(key, 100) if order is None else order
    _sections[key] = LoanSection(key=key, template=template, context=context, order=order)


def loan_sections(request, loan) -> list[dict]:
    """The registered sections in order with their data; a reserved slot nobody filled yet
    appears as a placeholder (template `loans/partials/section_placeholder.html`)."""
    rendered = []
    keys = set(_sections)
    placeholders = [LoanSection(key=k, template="loans/partials/section_placeholder.html",
                                context=lambda request, loan, k=k: {"slot": k}, order=o)
                    for k, o in RESERVED_SLOTS.items() if k not in keys]
    for section in sorted([*_sections.values(), *placeholders],
                          key=lambda s: (s.order, s.key)):
        data = section.context(request, loan)
        if data is not None:
            rendered.append({"key": section.key, "template": section.template, "data": data})
    return rendered
