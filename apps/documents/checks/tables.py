"""Reading tabular exports (CSV, xlsx) into rows, and mapping their columns with a profile.

Files reach here only after the upload pipeline: CSV decoded strictly within row limits, xlsx
proven not to be a zip bomb and free of macros. openpyxl then reads the workbook in read-only
mode (streamed, no formulas evaluated: `data_only` takes the cached values).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from apps.documents.safety import limit

HEADER_SCAN_ROWS = 30  # bank exports put titles, account numbers and dates above the header


class TableUnreadable(Exception):
    """The file has no table we can read (the check reports it; nothing crashes)."""


def read_rows(path: Path, fmt: str) -> list[list]:
    max_rows = limit("CSV_MAX_ROWS")
    if fmt == "csv":
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        return list(itertools.islice(csv.reader(io.StringIO(text, newline="")), max_rows))
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any parser failure means "cannot read"
            raise TableUnreadable(str(exc)[:200]) from exc
        try:
            sheet = workbook.worksheets[0]
            return [list(row) for row in itertools.islice(sheet.iter_rows(values_only=True),
                                                          max_rows)]
        finally:
            workbook.close()
    raise TableUnreadable(fmt)


def _norm(text) -> str:
    """Header text compared without case, spaces or bracket style: 借方发生额（支出） matches
    借方发生额(支出)."""
    text = str(text or "").strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text)


@dataclass
class Mapping:
    profile: object
    header_row: int
    columns: dict[str, int]  # field -> column index


def match_profile(rows: list[list], profiles) -> Mapping | None:
    """The profile whose required fields all appear in one header row near the top; the one
    mapping most columns wins when several fit."""
    best: Mapping | None = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = {_norm(c): i for i, c in enumerate(row) if c not in (None, "")}
        if len(cells) < 2:
            continue
        for profile in profiles:
            found = {}
            for field_name, aliases in profile.columns.items():
                for alias in aliases:
                    if _norm(alias) in cells:
                        found[field_name] = cells[_norm(alias)]
                        break
            if set(profile.required) <= set(found) and (
                    best is None or len(found) > len(best.columns)):
                best = Mapping(profile=profile, header_row=index, columns=found)
    return best


_MONEY_STRIP = re.compile(r"[,\s¥￥元$]|CNY|RMB", re.IGNORECASE)


def parse_amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    text = _MONEY_STRIP.sub("", str(value))
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if text in {"", "-", "--"}:
        return None
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return -amount if negative else amount


DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日",
                        "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"]


def parse_date(value, formats=()) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    for fmt in [*formats, *DEFAULT_DATE_FORMATS]:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


_PERIOD = re.compile(r"^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})|(\d{2}))")


def parse_period(value) -> str | None:
    """A month as "YYYY-MM" from a date, "2026-03", "2026年3月" or "202603"."""
    if isinstance(value, dt.date | dt.datetime):
        return f"{value.year:04d}-{value.month:02d}"
    match = _PERIOD.match(str(value or "").strip())
    if not match:
        return None
    month = int(match.group(2) or match.group(3))
    return f"{int(match.group(1)):04d}-{month:02d}" if 1 <= month <= 12 else None


def cell(row: list, mapping: Mapping, field_name: str):
    index = mapping.columns.get(field_name)
    return row[index] if index is not None and index < len(row) else None
