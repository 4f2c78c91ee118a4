"""Checking one answer against its item's answer type (§3.2), before it is saved.

Values are stored as JSON the rules read directly: money, numbers and percentages as decimal
text (never floats: no precision is lost on the way from the phone), dates as ISO text, tables
as a list of row dicts. Every refusal is a field error keyed by the item code (or by
`code.row.column` inside a table) so the form shows it next to the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.investigations.models import AnswerType, Item


def _decimal(raw: Any, field: str, *, minimum: Decimal | None = None,
             maximum: Decimal | None = None) -> str:
    """A finite decimal given as text or an integer; floats are refused (precision)."""
    if isinstance(raw, (bool, float)) or not isinstance(raw, (str, int, Decimal)):
        raise ValidationError({field: _("Enter a number as text, e.g. \"1250.50\".")})
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError({field: _("Enter a number.")}) from None
    if not value.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if minimum is not None and value < minimum:
        raise ValidationError({field: _("Enter a value of at least %(min)s.") % {"min": minimum}})
    if maximum is not None and value > maximum:
        raise ValidationError({field: _("Enter a value of at most %(max)s.") % {"max": maximum}})
    return str(value)


def _date(raw: Any, field: str) -> str:
    if not isinstance(raw, str):
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD.")})
    try:
        return dt.date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD.")}) from None


def _yes_no(raw: Any, field: str) -> bool:
    if not isinstance(raw, bool):
        raise ValidationError({field: _("Answer yes or no.")})
    return raw


def _text(raw: Any, field: str, min_length: int | None = None) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError({field: _("Enter some text.")})
    text = raw.strip()
    if min_length and len(text) < min_length:
        raise ValidationError({field: _("Write at least %(min)d characters (%(n)d so far): a "
                                        "real description, not a tick.")
                               % {"min": min_length, "n": len(text)}})
    return text


def _choice_codes(item: Item) -> list[str]:
    return [c.get("code") for c in item.choices or [] if isinstance(c, dict)]


def _evidence_ids(raw: Any, field: str) -> list:
    """Photo and document answers are the ids of stored evidence (checked for shape only until
    the documents app links them)."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError({field: _("Attach at least one file.")})
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, (int, str)) or value in ("", 0):
            raise ValidationError({field: _("Each attachment is an evidence id.")})
    if len(set(map(str, raw))) != len(raw):
        raise ValidationError({field: _("The same file is attached twice.")})
    return list(raw)


def _cell(column: dict, raw: Any, field: str) -> Any:
    kind = column.get("type")
    if raw is None or raw == "":
        return None  # a blank cell: the rules treat the total as unknown
    if kind == "money":
        return _decimal(raw, field, minimum=Decimal("0"))
    if kind in ("number", "percent"):
        return _decimal(raw, field)
    if kind == "date":
        return _date(raw, field)
    if kind == "yes_no":
        return _yes_no(raw, field)
    return _text(raw, field)


def _table(item: Item, raw: Any) -> list[dict]:
    spec = item.columns or {}
    columns = {c["code"]: c for c in spec.get("columns", []) if isinstance(c, dict)}
    fixed_rows = [r["code"] for r in spec.get("rows", []) if isinstance(r, dict)]
    if not isinstance(raw, list) or not raw or not all(isinstance(r, dict) for r in raw):
        raise ValidationError({item.code: _("Fill in the table (a list of rows).")})
    errors: dict[str, list[str]] = {}
    rows, seen = [], set()
    for index, row in enumerate(raw):
        name = row.get("row") if fixed_rows else str(index)
        if fixed_rows:
            if name not in fixed_rows:
                errors.setdefault(f"{item.code}.{name}", []).append(_("Unknown row."))
                continue
            if name in seen:
                errors.setdefault(f"{item.code}.{name}", []).append(_("This row appears twice."))
                continue
            seen.add(name)
        unknown = set(row) - set(columns) - {"row"}
        for column_code in sorted(unknown):
            errors.setdefault(f"{item.code}.{name}.{column_code}", []).append(
                _("Unknown column."))
        clean = {"row": name} if fixed_rows else {}
        for code, column in columns.items():
            try:
                clean[code] = _cell(column, row.get(code), f"{item.code}.{name}.{code}")
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
        rows.append(clean)
    for name in fixed_rows:
        if name not in seen:
            errors.setdefault(f"{item.code}.{name}", []).append(_("This row is missing."))
    if errors:
        raise ValidationError(errors)
    if fixed_rows:
        rows.sort(key=lambda r: fixed_rows.index(r["row"]))
    return rows


def _location(raw: Any, field: str) -> dict:
    if not isinstance(raw, dict) or not {"lat", "lng"} <= set(raw):
        raise ValidationError({field: _("Give a position with lat and lng.")})
    return {"lat": _decimal(raw["lat"], f"{field}.lat", minimum=Decimal("-90"),
                            maximum=Decimal("90")),
            "lng": _decimal(raw["lng"], f"{field}.lng", minimum=Decimal("-180"),
                            maximum=Decimal("180"))}


def answer_clean(item: Item, value: Any) -> Any:
    """The value to store for `item`, or a ValidationError keyed by the item's code.

    Derived items are refused: they are computed from other answers and never typed (§3.2).
    """
    code, kind = item.code, item.answer_type
    if kind == AnswerType.DERIVED:
        raise ValidationError({code: _("This value is computed from other answers; it cannot "
                                       "be entered.")})
    if value is None or value == "" or value == []:
        raise ValidationError({code: _("Give an answer, or mark it not applicable with a "
                                       "reason.")})
    if kind == AnswerType.YES_NO:
        return _yes_no(value, code)
    if kind == AnswerType.NUMBER:
        return _decimal(value, code)
    if kind == AnswerType.MONEY:
        return _decimal(value, code, minimum=Decimal("0"))
    if kind == AnswerType.PERCENT:
        return _decimal(value, code, minimum=Decimal("0"), maximum=Decimal("100"))
    if kind == AnswerType.DATE:
        return _date(value, code)
    if kind == AnswerType.TEXT:
        return _text(value, code, item.min_length)
    if kind == AnswerType.SINGLE_CHOICE:
        if not isinstance(value, str) or value not in _choice_codes(item):
            raise ValidationError({code: _("Choose one of the listed options.")})
        return value
    if kind == AnswerType.MULTI_CHOICE:
        allowed = _choice_codes(item)
        if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed
                                                  for v in value):
            raise ValidationError({code: _("Choose among the listed options.")})
        if len(set(value)) != len(value):
            raise ValidationError({code: _("An option is chosen twice.")})
        return [c for c in allowed if c in value]  # template order: a stable value
    if kind == AnswerType.TABLE:
        return _table(item, value)
    if kind in (AnswerType.PHOTO, AnswerType.DOCUMENT):
        return _evidence_ids(value, code)
    if kind == AnswerType.LOCATION:
        return _location(value, code)
    raise ValidationError({code: _("This item has an unknown answer type.")})


def evidence_clean(item: Item, evidence: Any) -> dict:
    """Evidence backing an answer: {"documents": {type: [ids]}, "photos": [ids]}; only the
    document types the item asks for are accepted."""
    if evidence in (None, {}):
        return {}
    field = f"{item.code}.evidence"
    if not isinstance(evidence, dict) or set(evidence) - {"documents", "photos"}:
        raise ValidationError({field: _("Evidence is {\"documents\": {...}, \"photos\": [...]}.")})
    clean: dict = {}
    wanted = set((item.evidence or {}).get("document_types") or [])
    documents = evidence.get("documents") or {}
    if not isinstance(documents, dict):
        raise ValidationError({field: _("Documents are grouped by document type.")})
    for doc_type, ids in documents.items():
        if doc_type not in wanted:
            raise ValidationError({field: _("This item does not ask for %(type)s.")
                                   % {"type": doc_type}})
        clean.setdefault("documents", {})[doc_type] = _evidence_ids(ids, field)
    if evidence.get("photos"):
        clean["photos"] = _evidence_ids(evidence["photos"], field)
    return clean


def evidence_shortfall(item: Item, value: Any, evidence: dict) -> list[str]:
    """What evidence the item's spec still lacks (document types missing, photos short)."""
    spec = item.evidence or {}
    missing = []
    documents = (evidence or {}).get("documents") or {}
    for doc_type in spec.get("document_types") or []:
        if not documents.get(doc_type):
            missing.append(_("document “%(type)s”") % {"type": doc_type})
    wanted = int(spec.get("photo_count") or 0)
    photos = len((evidence or {}).get("photos") or [])
    if item.answer_type == AnswerType.PHOTO and isinstance(value, list):
        photos += len(value)
    if photos < wanted:
        missing.append(_("%(have)d of %(want)d photos") % {"have": photos, "want": wanted})
    return missing
