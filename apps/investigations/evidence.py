"""What the investigation's controls learn from collected evidence, without importing documents.

Documents sit to the right of investigations (CONVENTIONS §1), so the checklist cannot read
document rows itself. The documents app registers one `EvidenceSource` at start-up; the
anti-box-ticking controls and the cross-checks read photos and parsed figures through it.
With no source registered (a deployment without document checks) every control that needs
evidence says so in its finding instead of passing silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from apps.core.compiled import immediately, run, together


@dataclass(frozen=True)
class PhotoEvidence:
    """One site-visit photo as the document checks saw it.

    `taken_*` come from the photo's own metadata (EXIF DateTimeOriginal and GPS); `device_*`
    from the phone's reported position when it was uploaded. Either may be missing: a missing
    value is itself a finding, never a pass.
    """

    document_id: int
    application_id: int
    uploaded_at: dt.datetime
    uploaded_by_id: int
    taken_at: dt.datetime | None
    taken_lat: float | None
    taken_lng: float | None
    device_lat: float | None
    device_lng: float | None
    phash: str | None          # 64-bit perceptual hash as 16 hex digits
    checked: bool              # False while the photo check has not run yet


@dataclass(frozen=True)
class PhotoReuse:
    """A photo whose perceptual hash is within `distance` bits of one in another file."""

    document_id: int
    other_document_id: int
    other_application_id: int
    distance: int


class EvidenceSource(Protocol):
    def photos(self, application_id: int) -> list[PhotoEvidence]:
        """Every site-visit photo collected for the application (any state but quarantined)."""

    def photo_reuse(self, application_id: int, *, max_distance: int) -> list[PhotoReuse]:
        """Photos of this application that match a photo of another application."""

    def edited_photo_reuse(self, application_id: int, *, candidate_distance: int,
                           max_distance: int, min_pairs: int,
                           document_ids: Iterable[int] | None = None,
                           same_application: bool = False) -> list[PhotoReuse]:
        """Photos of this application (or only `document_ids`) whose edit-resistant
        fingerprint matches a photo of any other file or stage (issue 19); photos of the same
        application count with `same_application`, if uploaded before."""

    def figures(self, application_id: int) -> dict[str, Decimal | None]:
        """Figures parsed from the application's documents, by key (see FIGURE_KEYS)."""


# The figures a source may return. Money in CNY, energy in kWh, shares as fractions (0-1).
FIGURE_KEYS = {
    "bank.inflows_12m": "Bank-statement inflows over the last 12 months",
    "bank.outflows_12m": "Bank-statement outflows over the last 12 months",
    "bank.months_covered": "Months of bank statements parsed",
    "bank.top_counterparty_share": "Share of inflows from the largest counterparty",
    "bank.round_trip_share": "Share of inflows returned to the same counterparty within 3 days",
    "bank.large_cash_count": "Cash transactions above the large-cash threshold",
    "tax.revenue_12m": "Tax-declared revenue over the last 12 months",
    "tax.paid_12m": "Tax paid over the last 12 months",
    "utility.kwh_12m": "Electricity used over the last 12 months (kWh)",
}

_source: EvidenceSource | None = None


def register_evidence_source(source: EvidenceSource) -> None:
    global _source
    _source = source


def evidence_source() -> EvidenceSource | None:
    return _source


def figures_for(application_id: int, keys: Iterable[str] = FIGURE_KEYS) -> dict:
    """Parsed figures, every requested key present (None when unknown or no source). A figure
    an outside source gave (the data hub's pulls, see `register_figure_source`) is used when
    present, the documents' otherwise."""
    return figures_with_provenance(application_id, keys)[0]


def figures_with_provenance(application_id: int,
                            keys: Iterable[str] = FIGURE_KEYS) -> tuple[dict, dict]:
    """(figures as in `figures_for`, key → provenance of each pulled figure used)."""
    return run(figures_with_provenance_steps(application_id, keys))


def figures_with_provenance_steps(application_id: int, keys: Iterable[str] = FIGURE_KEYS):
    """`figures_with_provenance` as a step of `apps.core.compiled.run_together`: the document
    source's query and the outside sources' first ones go in one round trip (with the
    scoring worker's other reads); a source without steps is read on its own."""
    if _source is None:
        documents = immediately(dict)
    elif hasattr(_source, "figures_steps"):
        documents = _source.figures_steps(application_id)
    else:
        documents = immediately(_source.figures, application_id)
    found, *pulled = yield from together(documents, *(
        steps(application_id) if steps is not None else immediately(fn, application_id)
        for fn, steps in _figure_sources))
    provenance: dict[str, dict] = {}
    for figures in pulled:
        for key, (value, where) in figures.items():
            if value is not None:
                found = {**found, key: value}
                provenance[key] = where
    keys = list(keys)
    return {key: found.get(key) for key in keys}, {k: v for k, v in provenance.items()
                                                    if k in keys}


# --- additions (controls engineer): helpers for rules and explanations -----------------------


def evidence_placeholder(key: str) -> str:
    """`bank.inflows_12m` → `evidence_bank_inflows_12m`, the name a cross-check explanation
    uses for a figure (str.format would read a dot as attribute access)."""
    return "evidence_" + key.replace(".", "_")


class FiguresResolver:
    """`resolver(key) -> Decimal | None` for `evidence("key")` in rules, reading the source
    once per evaluation run; `used` keeps what was read, for the finding's record."""

    def __init__(self, application_id: int | None):
        self._figures = figures_for(application_id) if application_id is not None else {}
        self.used: dict[str, Decimal | None] = {}

    def __call__(self, key: str) -> Decimal | None:
        value = self._figures.get(key)
        self.used[key] = value
        return value


# --- additions (data hub, issue 21): cross-check findings from apps above this one -----------

_finding_sources: list = []


def register_finding_source(fn) -> None:
    """`fn(application_id, *, policy) -> list[rules.Finding]`: cross-check findings a later app
    contributes at submission (the data hub's court hits), stored with the template's own."""
    if fn not in _finding_sources:
        _finding_sources.append(fn)


def external_findings(application_id: int, *, policy) -> list:
    found: list = []
    for fn in _finding_sources:
        found.extend(fn(application_id, policy=policy))
    return found


# --- additions (data hub, issue 21): figures and answers pulled from outside sources ---------

_figure_sources: list = []
_item_value_sources: list = []


def register_figure_source(fn, *, steps=None) -> None:
    """`fn(application_id) -> {key: (Decimal, provenance dict)}`: figures an outside source
    gave (the data hub's tax and utility pulls); they beat a document's figure. `steps`: the
    same as a step of `apps.core.compiled.run_together`, when the source has one."""
    if all(known != fn for known, _steps in _figure_sources):
        _figure_sources.append((fn, steps))


def register_item_value_source(fn) -> None:
    """`fn(application_id) -> {item code: value}` where each value has `text`, `value` and
    `provenance_text`: what an outside source says for an item, shown beside the answer."""
    if fn not in _item_value_sources:
        _item_value_sources.append(fn)


def pulled_item_values(application_id: int) -> dict:
    found: dict = {}
    for fn in _item_value_sources:
        found.update(fn(application_id))
    return found
