"""Rows → transactions under an inferred mapping (records.Transaction, the same shape a
profile-matched statement gives), and the balance-continuity figure for any mapping."""

from __future__ import annotations

from decimal import Decimal

from apps.documents.checks.records import Transaction
from apps.documents.checks.tables import parse_amount, parse_date
from apps.documents.statements.infer import (
    CENT,
    ProposedMapping,
    _direction,
    _is_totals,
    parse_date_as,
)

ZERO = Decimal("0")


def _get(row, mapping: ProposedMapping, name: str):
    index = mapping.columns.get(name)
    return row[index] if index is not None and index < len(row) else None


def _text(value) -> str:
    return str(value or "").strip()[:200]


def row_amount(row, columns: dict[str, int], sign: str) -> Decimal | None:
    def get(name):
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    if "amount" in columns:
        amount = parse_amount(get("amount"))
        if amount is not None and sign == "direction":
            direction = _direction(get("direction"))
            amount = abs(amount) * direction if direction else None
        return amount
    credit, debit = parse_amount(get("credit")), parse_amount(get("debit"))
    if credit is None and debit is None:
        return None
    return (credit or ZERO) - abs(debit or ZERO)


def transactions(rows: list[list], mapping: ProposedMapping) -> tuple[list[Transaction], int]:
    """(transactions in date order, rows skipped)."""
    txns, skipped = [], 0
    for index in mapping.data_rows:
        row = rows[index]
        day = (parse_date_as(_get(row, mapping, "date"), mapping.date_format)
               if mapping.date_format else parse_date(_get(row, mapping, "date")))
        amount = row_amount(row, mapping.columns, mapping.sign)
        if day is None or not amount:
            skipped += 1
            continue
        txns.append(Transaction(day, amount, _text(_get(row, mapping, "counterparty")),
                                _text(_get(row, mapping, "description")),
                                _text(_get(row, mapping, "channel")),
                                _text(_get(row, mapping, "counterparty_account"))))
    skipped += len(mapping.totals_rows)
    txns.sort(key=lambda t: t.date)
    return txns, skipped


def balance_continuity(rows: list[list], columns: dict[str, int], sign: str,
                       first_row: int) -> Decimal | None:
    """Share of consecutive transaction rows whose running balance adds up (either reading
    direction); None without a balance column. A profile-matched file gets the same check."""
    found = balance_check(rows, columns, sign, first_row)
    return None if found is None else found[0]


def balance_check(rows: list[list], columns: dict[str, int], sign: str,
                  first_row: int) -> tuple[Decimal, int] | None:
    """(share of consecutive rows that add up, rows that break it) in the better reading
    direction; None without a balance column."""
    if "balance" not in columns:
        return None
    amounts, balances = [], []
    for row in rows[first_row:]:
        if _is_totals(row):
            continue
        amount = row_amount(row, columns, sign)
        index = columns["balance"]
        balance = parse_amount(row[index]) if index < len(row) else None
        if balance is None:
            continue
        amounts.append(amount)  # None: a balance row without an amount, a break
        balances.append(balance)
    fwd = rev = total = 0
    for i in range(1, len(amounts)):
        total += 1
        if amounts[i] is not None:
            fwd += abs(balances[i - 1] + amounts[i] - balances[i]) <= CENT
        if amounts[i - 1] is not None:
            rev += abs(balances[i] + amounts[i - 1] - balances[i - 1]) <= CENT
    if not total:
        return None
    good = max(fwd, rev)
    return (Decimal(good) / Decimal(total)).quantize(Decimal("0.0001")), total - good
