"""Blocks of the application page supplied by apps above applications.

Investigations, documents, scoring and approvals each know a part of the file that this app
may not import (CONVENTIONS §1); they register a section here from their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ApplicationSection:
    key: str
    template: str
    context: Callable  # (request, application) -> dict | None; None hides the section
    order: int = 100


_sections: dict[str, ApplicationSection] = {}


def register_application_section(*, key: str, template: str, context: Callable,
                                 order: int = 100) -> None:
    """Add (or replace, by key: safe to call twice) a section of the application page."""
    _sections[key] = ApplicationSection(key=key, template=template, context=context, order=order)


def application_sections(request, application) -> list[dict]:
    """The registered sections in order, each with its data; a section whose context returns
    None (nothing to show this viewer) is left out."""
    rendered = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        data = section.context(request, application)
        if data is not None:
            rendered.append({"key": section.key, "template": section.template, "data": data})
    return rendered
