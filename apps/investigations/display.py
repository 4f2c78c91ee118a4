"""How an answer reads on the reviewer's page: values formatted, tables as rows, files as links.

Values are stored as JSON (decimal text, ISO dates, lists of row dicts, evidence ids); the
reviewer reads them formatted in their language, with each piece of evidence a link to the
documents app's download page (a URL, not an import: documents sit above investigations).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import gettext as _

from apps.investigations.models import AnswerType


def document_url(document_id) -> str:
    return f"/documents/{document_id}/download/"


def _number(value) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return formats.number_format(number, force_grouping=True)


def cell_text(kind: str | None, value) -> str:
    if value is None or value == "":
        return "—"
    if kind == "yes_no" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if kind in ("money", "number", "percent"):
        return _number(value)
    if kind == "date":
        try:
            return formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def answer_display(item) -> dict:
    """{"text": …} or {"table": {"head", "rows"}} or {"files": [{id, url}]} for an ItemView,
    plus the evidence attached to the answer."""
    answer, kind = item.answer, item.answer_type
    shown: dict = {"evidence": []}
    if kind == AnswerType.DERIVED:
        shown["text"] = cell_text("number", item.derived_value)
        return shown
    if answer is None:
        shown["text"] = _("Not answered")
        return shown
    evidence = answer.get("evidence") or {}
    for doc_type, ids in (evidence.get("documents") or {}).items():
        shown["evidence"] += [{"label": doc_type, "id": i, "url": document_url(i)} for i in ids]
    shown["evidence"] += [{"label": _("photo"), "id": i, "url": document_url(i)}
                          for i in evidence.get("photos") or []]
    if answer["not_applicable"]:
        shown["text"] = _("Not applicable: %(reason)s") % {"reason": answer["na_reason"]}
        return shown
    value = answer["value"]
    if kind in (AnswerType.PHOTO, AnswerType.DOCUMENT):
        shown["files"] = [{"id": i, "url": document_url(i)} for i in value or []]
    elif kind == AnswerType.TABLE:
        labels = {r["code"]: r["label"] for r in item.rows}
        head = ([""] if item.rows else []) + [c["label"] for c in item.columns]
        rows = []
        for row in value or []:
            cells = [cell_text(c["type"], row.get(c["code"])) for c in item.columns]
            rows.append(([labels.get(row.get("row"), row.get("row"))] if item.rows else [])
                        + cells)
        shown["table"] = {"head": head, "rows": rows}
    elif kind == AnswerType.SINGLE_CHOICE:
        shown["text"] = next((c["label"] for c in item.choices if c["code"] == value), value)
    elif kind == AnswerType.MULTI_CHOICE:
        labels = {c["code"]: c["label"] for c in item.choices}
        shown["text"] = ", ".join(labels.get(v, v) for v in value or [])
    elif kind == AnswerType.LOCATION:
        shown["text"] = f"{value.get('lat')}, {value.get('lng')}"
    else:
        text = cell_text(kind, value)
        shown["text"] = f"{text} {item.unit}".strip() if item.unit else text
    return shown
