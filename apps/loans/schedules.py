"""Repayment schedules: pure functions from the loan's terms to its due dates and amounts.

Rounding rule (stated once, used everywhere): every amount is rounded ROUND_HALF_UP to the fen
(0.01) per instalment; the last instalment takes whatever principal is left, so the principal
rows always add up to the amount lent exactly. No row is ever negative: an instalment never
repays more principal than is outstanding.

Due dates are monthly from the value date, anchored on the value date's day of the month and
clamped to the month's end (value date Jan 31 → Feb 28 or 29 → Mar 31 → Apr 30 …).

Interest for a period is the outstanding principal × annual rate × the period's year fraction
under the day count (ACT/360, the CNY default; ACT/365; 30/360), rounded as above.

Nothing here reads the database: the service (`apps.loans.services.schedules`) stores the rows.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from apps.products.models import DayCount

FEN = Decimal("0.01")
_HUNDRED = Decimal(100)


def to_fen(value: Decimal) -> Decimal:
    """Round to the fen, half up (the schedule's one rounding rule)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Instalment:
    number: int
    due_date: dt.date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


# --- dates and day counts ----------------------------------------------------------------------

def add_months(start: dt.date, months: int, *, anchor_day: int | None = None) -> dt.date:
    """`start` moved by whole months, on the anchor day or the month's last day if shorter."""
    anchor = anchor_day or start.day
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(anchor, calendar.monthrange(year, month)[1]))


def monthly_due_dates(value_date: dt.date, term_months: int) -> list[dt.date]:
    """One due date a month after the value date, each computed from the value date itself
    (not from the previous due date), so a short month does not pull later dates forward."""
    return [add_months(value_date, k, anchor_day=value_date.day)
            for k in range(1, term_months + 1)]


def year_fraction(start: dt.date, end: dt.date, day_count: str) -> Decimal:
    """The part of a year between two dates under the day count convention.

    30/360 is the US (bond basis) rule: a day 31 counts as 30, and an end day 31 counts as 30
    when the start day is 30 or 31.
    """
    if day_count == DayCount.THIRTY_360:
        d1 = min(start.day, 30)
        d2 = 30 if end.day == 31 and d1 == 30 else end.day
        days = (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)
        return Decimal(days) / Decimal(360)
    days = Decimal((end - start).days)
    if day_count == DayCount.ACT_365:
        return days / Decimal(365)
    if day_count == DayCount.ACT_360:
        return days / Decimal(360)
    raise ValueError(f"unknown day count {day_count!r}")


def period_interest(outstanding: Decimal, annual_rate_pct: Decimal, start: dt.date,
                    end: dt.date, day_count: str) -> Decimal:
    """Interest on `outstanding` from `start` to `end` (rate in percent a year), to the fen."""
    return to_fen(outstanding * annual_rate_pct / _HUNDRED * year_fraction(start, end, day_count))


# --- methods -----------------------------------------------------------------------------------

def _rows(amount: Decimal, annual_rate_pct: Decimal, value_date: dt.date, dates: list[dt.date],
          day_count: str, principal_due) -> list[Instalment]:
    """Walk the due dates: interest on what is outstanding, principal from `principal_due`
    (capped at what is outstanding), the last row taking the remainder."""
    rows, outstanding, previous = [], amount, value_date
    for number, due in enumerate(dates, start=1):
        interest = period_interest(outstanding, annual_rate_pct, previous, due, day_count)
        if number == len(dates):
            principal = outstanding
        else:
            principal = min(max(principal_due(number, interest, outstanding), Decimal(0)),
                            outstanding)
        rows.append(Instalment(number, due, principal, interest))
        outstanding -= principal
        previous = due
    return rows


def _check_terms(amount: Decimal, annual_rate_pct: Decimal, term_months: int) -> None:
    if amount <= 0 or amount != to_fen(amount):
        raise ValueError("amount must be positive and in fen")
    if annual_rate_pct < 0:
        raise ValueError("rate must not be negative")
    if term_months < 1:
        raise ValueError("term must be at least one month")


def equal_instalment_payment(amount: Decimal, annual_rate_pct: Decimal, term_months: int
                             ) -> Decimal:
    """The level monthly payment (等额本息), from the periodic rate r = annual rate / 12:
    P = A·r / (1 − (1 + r)^−n), rounded half up to the fen; with r = 0, P = A / n."""
    r = annual_rate_pct / _HUNDRED / 12
    if r == 0:
        return to_fen(amount / term_months)
    return to_fen(amount * r / (1 - (1 + r) ** -term_months))


def equal_instalment(*, amount: Decimal, annual_rate_pct: Decimal, term_months: int,
                     value_date: dt.date, day_count: str) -> list[Instalment]:
    """等额本息: a level payment computed from the periodic rate (annual / 12); each period's
    interest is the outstanding principal under the day count, and the principal row is the
    payment less that interest. Day counts make the totals differ by a few fen between months;
    the last row repays what is left."""
    _check_terms(amount, annual_rate_pct, term_months)
    payment = equal_instalment_payment(amount, annual_rate_pct, term_months)
    return _rows(amount, annual_rate_pct, value_date, monthly_due_dates(value_date, term_months),
                 day_count, lambda number, interest, outstanding: payment - interest)


def equal_principal(*, amount: Decimal, annual_rate_pct: Decimal, term_months: int,
                    value_date: dt.date, day_count: str) -> list[Instalment]:
    """等额本金: the same principal each month (amount / n to the fen), interest on the
    outstanding principal under the day count; the last row absorbs the rounding."""
    _check_terms(amount, annual_rate_pct, term_months)
    share = to_fen(amount / term_months)
    return _rows(amount, annual_rate_pct, value_date, monthly_due_dates(value_date, term_months),
                 day_count, lambda number, interest, outstanding: share)


def interest_only_bullet(*, amount: Decimal, annual_rate_pct: Decimal, term_months: int,
                         value_date: dt.date, day_count: str) -> list[Instalment]:
    """按月付息、到期还本: interest monthly, the whole principal on the last due date."""
    _check_terms(amount, annual_rate_pct, term_months)
    return _rows(amount, annual_rate_pct, value_date, monthly_due_dates(value_date, term_months),
                 day_count, lambda number, interest, outstanding: Decimal(0))


def irregular(*, amount: Decimal, annual_rate_pct: Decimal, value_date: dt.date, day_count: str,
              principal_rows: list[tuple[dt.date, Decimal]]) -> list[Instalment]:
    """An agreed table of due dates and principal (validated by `parse_irregular`); interest
    per row on the outstanding principal under the day count."""
    _check_terms(amount, annual_rate_pct, 1)
    if sum((p for _d, p in principal_rows), Decimal(0)) != amount:
        raise ValueError("principal rows must add up to the amount")
    by_number = {n: p for n, (_d, p) in enumerate(principal_rows, start=1)}
    return _rows(amount, annual_rate_pct, value_date, [d for d, _p in principal_rows], day_count,
                 lambda number, interest, outstanding: by_number[number])


def build_schedule(*, method: str, amount: Decimal, annual_rate_pct: Decimal, term_months: int,
                   value_date: dt.date, day_count: str,
                   principal_rows: list[tuple[dt.date, Decimal]] | None = None
                   ) -> list[Instalment]:
    """Dispatch on the repayment method (the `ScheduleMethod` values)."""
    from apps.loans.models import ScheduleMethod

    terms = {"amount": amount, "annual_rate_pct": annual_rate_pct, "value_date": value_date,
             "day_count": day_count}
    if method == ScheduleMethod.EQUAL_INSTALMENT:
        return equal_instalment(term_months=term_months, **terms)
    if method == ScheduleMethod.EQUAL_PRINCIPAL:
        return equal_principal(term_months=term_months, **terms)
    if method == ScheduleMethod.INTEREST_ONLY_BULLET:
        return interest_only_bullet(term_months=term_months, **terms)
    if method == ScheduleMethod.IRREGULAR:
        if not principal_rows:
            raise ValueError("an irregular schedule needs its uploaded rows")
        return irregular(principal_rows=principal_rows, **terms)
    raise ValueError(f"no schedule for repayment method {method!r}")


# --- uploaded (irregular) schedules ------------------------------------------------------------

@dataclass(frozen=True)
class RowError:
    """One refused line of an uploaded schedule: line number (1 = header), column, reason."""

    line: int
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "reason": self.reason}


class ScheduleUploadError(ValueError):
    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(f"{e.line}:{e.field}: {e.reason}" for e in errors))
        self.errors = errors


def _cells_from_upload(name: str, content: bytes) -> list[list]:
    """The sheet as rows of cells: CSV (UTF-8, with or without BOM) or the first XLSX sheet."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    text = content.decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text))]


def _parse_date(cell) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    try:
        return dt.date.fromisoformat(str(cell).strip())
    except ValueError:
        return None


def _parse_amount(cell) -> Decimal | None:
    try:
        value = Decimal(str(cell).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def parse_irregular(*, name: str, content: bytes, amount: Decimal, value_date: dt.date,
                    max_rows: int = 600) -> list[tuple[dt.date, Decimal]]:
    """Read an uploaded schedule with the header `due_date,principal` (ISO dates, amounts in
    yuan with at most two decimals). Every problem is reported with its line and reason, all
    at once: dates after the value date and strictly increasing, principal not negative, and
    the principal adding up to the amount drawn exactly."""
    try:
        cells = _cells_from_upload(name, content)
    except Exception:  # noqa: BLE001 - any unreadable file gets the same plain answer
        raise ScheduleUploadError([RowError(1, "file", _(
            "The file could not be read: upload a CSV (UTF-8) or an XLSX sheet."))]) from None
    cells = [row for row in cells if any(c not in (None, "") for c in row)]
    if not cells:
        raise ScheduleUploadError([RowError(1, "file", _("The file is empty."))])
    header = [str(c or "").strip().lower() for c in cells[0]][:2]
    if header != ["due_date", "principal"]:
        raise ScheduleUploadError([RowError(1, "header", _(
            "The first line must be the header: due_date,principal"))])
    body = cells[1:]
    errors: list[RowError] = []
    if not body:
        errors.append(RowError(2, "file", _("The schedule has no rows.")))
    if len(body) > max_rows:
        errors.append(RowError(max_rows + 2, "file", _("At most %(n)s rows.") % {"n": max_rows}))
    rows, previous = [], value_date
    for line, row in enumerate(body[:max_rows], start=2):
        row = list(row) + [None, None]
        due, principal = _parse_date(row[0]), _parse_amount(row[1])
        if due is None:
            errors.append(RowError(line, "due_date", _("Not a date (write YYYY-MM-DD).")))
        elif due <= previous:
            errors.append(RowError(line, "due_date", _(
                "Due dates must come after the value date and after the line before.")))
        if principal is None:
            errors.append(RowError(line, "principal", _("Not an amount.")))
        elif principal < 0:
            errors.append(RowError(line, "principal", _("Principal cannot be negative.")))
        elif principal != principal.quantize(FEN):
            errors.append(RowError(line, "principal", _("At most two decimals (fen).")))
        if due is not None and principal is not None:
            rows.append((due, principal))
            previous = max(previous, due)
    if not errors:
        total = sum((p for _d, p in rows), Decimal(0))
        if total != amount:
            errors.append(RowError(len(body) + 1, "principal", _(
                "The principal adds up to %(total)s, not the amount drawn %(amount)s.") % {
                "total": f"{total:,.2f}", "amount": f"{amount:,.2f}"}))
    if errors:
        raise ScheduleUploadError(errors)
    return rows
