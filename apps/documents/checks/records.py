"""Bank statements, tax records and utility records: parse with the matching column profile,
then compute the figures the investigation cross-checks and scoring read.

Bank statements (domain reference §3.3 F): monthly inflows and outflows, counterparty
concentration, round-tripping (money out to a counterparty and back, or in and back out,
within N days: F2/F3), large-cash and round-number patterns. Tax and utility records (§3.3 E):
monthly series, 12-month totals and the year-on-year trend. Every threshold is policy data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from apps.documents.checks import CheckContext, CheckOutcome, flag, policy_or_flag
from apps.documents.checks.tables import (
    TableUnreadable,
    cell,
    match_profile,
    parse_amount,
    parse_date,
    parse_period,
    read_rows,
)

VERSION = "records-1"
TOP_COUNTERPARTIES = 50  # kept per statement so figures can be combined across accounts
ZERO = Decimal("0")


@dataclass
class Transaction:
    date: dt.date
    amount: Decimal  # positive: money in; negative: money out
    counterparty: str
    description: str
    channel: str
    account: str = ""  # the counterparty's account number, when the export has it


def _text(value) -> str:
    return str(value or "").strip()[:200]


def parse_transactions(rows: list[list], mapping) -> tuple[list[Transaction], int]:
    """(transactions, rows skipped). Separate debit/credit columns or one signed amount."""
    profile, txns, skipped = mapping.profile, [], 0
    for row in rows[mapping.header_row + 1:]:
        if not any(c not in (None, "") for c in row):
            continue
        day = parse_date(cell(row, mapping, "date"), profile.date_formats)
        if "direction" in mapping.columns:  # unsigned amount + 借/贷 column (issue 19)
            from apps.documents.statements.read import row_amount

            amount = row_amount(row, mapping.columns, "direction")
        elif "amount" in mapping.columns:
            amount = parse_amount(cell(row, mapping, "amount"))
        else:
            credit = parse_amount(cell(row, mapping, "credit")) or ZERO
            debit = parse_amount(cell(row, mapping, "debit")) or ZERO
            amount = credit - abs(debit) if (credit or debit) else None
        if day is None or amount is None or amount == 0:
            skipped += 1  # totals, footers, blank amounts: not transactions
            continue
        txns.append(Transaction(day, amount, _text(cell(row, mapping, "counterparty")),
                                _text(cell(row, mapping, "description")),
                                _text(cell(row, mapping, "channel")),
                                _text(cell(row, mapping, "counterparty_account"))))
    txns.sort(key=lambda t: t.date)
    return txns, skipped


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def last_12(months: list[str]) -> set[str]:
    """The 12 calendar months ending with the latest month present."""
    if not months:
        return set()
    end = max(_month_index(m) for m in months)
    return {m for m in months if end - _month_index(m) < 12}


def months_spanned(months) -> int:
    indices = [_month_index(m) for m in months]
    return max(indices) - min(indices) + 1 if indices else 0


def round_trips(txns: list[Transaction], *, days: int, tolerance: Decimal) -> Decimal:
    """Inflow amount matched by an outflow of about the same size to the same counterparty
    within `days` either side (each outflow used once): money that came in only to go back."""
    outs: dict[str, list[Transaction]] = defaultdict(list)
    for t in txns:
        if t.amount < 0 and t.counterparty:
            outs[t.counterparty].append(t)
    used: set[int] = set()
    matched = ZERO
    for t in txns:
        if t.amount <= 0 or not t.counterparty:
            continue
        for out in outs.get(t.counterparty, []):
            if id(out) in used or abs((out.date - t.date).days) > days:
                continue
            if abs(abs(out.amount) - t.amount) <= t.amount * tolerance:
                used.add(id(out))
                matched += t.amount
                break
    return matched


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else ZERO


def analyse_statement(txns: list[Transaction], ctx: CheckContext, cash_keywords,
                      flags: list[dict]) -> dict:
    monthly: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"in": ZERO, "out": ZERO})
    counterparties: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for t in txns:
        entry = monthly[_month(t.date)]
        if t.amount > 0:
            entry["in"] += t.amount
            if t.counterparty:
                counterparties[t.counterparty] += t.amount
        else:
            entry["out"] += -t.amount
    window = last_12(list(monthly))
    inflows = sum((v["in"] for m, v in monthly.items() if m in window), ZERO)
    outflows = sum((v["out"] for m, v in monthly.items() if m in window), ZERO)
    total_in = sum((t.amount for t in txns if t.amount > 0), ZERO)

    rt_days = policy_or_flag(ctx, "documents.bank.round_trip_days", flags)
    tolerance = policy_or_flag(ctx, "documents.bank.round_trip_amount_tolerance", flags)
    matched = (round_trips(txns, days=int(rt_days), tolerance=tolerance)
               if rt_days is not None and tolerance is not None else ZERO)
    cash_limit = policy_or_flag(ctx, "documents.bank.large_cash_amount", flags)
    keywords = [k.lower() for k in cash_keywords]
    large_cash = [t for t in txns if cash_limit is not None and abs(t.amount) >= cash_limit
                  and any(k in f"{t.description} {t.channel}".lower() for k in keywords)]
    unit = policy_or_flag(ctx, "documents.bank.round_number_unit", flags)
    round_count = sum(1 for t in txns if unit and abs(t.amount) % unit == 0)
    top = sorted(counterparties.items(), key=lambda kv: kv[1], reverse=True)
    top_share = _share(top[0][1], total_in) if top else ZERO

    summary = {
        "transactions": len(txns),
        "first_date": txns[0].date.isoformat(), "last_date": txns[-1].date.isoformat(),
        "months_covered": months_spanned(monthly),
        "monthly": {m: {"in": str(v["in"]), "out": str(v["out"])}
                    for m, v in sorted(monthly.items())},
        "total_inflow": str(total_in),
        "counterparty_inflows": {name: str(amount) for name, amount in
                                 top[:TOP_COUNTERPARTIES]},
        "top_counterparty": top[0][0] if top else None,
        "top_counterparty_share": str(top_share),
        "round_trip_inflow": str(matched),
        "round_trip_share": str(_share(matched, total_in)),
        "large_cash_count": len(large_cash),
        "large_cash": [{"date": t.date.isoformat(), "amount": str(t.amount),
                        "description": t.description} for t in large_cash[:20]],
        "round_number_share": str(_share(Decimal(round_count), Decimal(len(txns)))),
        "figures": {
            "bank.inflows_12m": str(inflows), "bank.outflows_12m": str(outflows),
            "bank.months_covered": str(months_spanned(monthly)),
            "bank.top_counterparty_share": str(top_share),
            "bank.round_trip_share": str(_share(matched, total_in)),
            "bank.large_cash_count": str(len(large_cash)),
        },
    }
    _limit_flags(ctx, flags, [
        ("documents.bank.min_months", Decimal(summary["months_covered"]), "below",
         "statement_too_short"),
        ("documents.bank.top_counterparty_share_max", top_share, "above",
         "counterparty_concentration"),
        ("documents.bank.round_trip_share_max", _share(matched, total_in), "above",
         "round_tripping"),
        ("documents.bank.large_cash_count_max", Decimal(len(large_cash)), "above",
         "large_cash"),
        ("documents.bank.round_number_share_max",
         _share(Decimal(round_count), Decimal(len(txns))), "above", "round_numbers"),
    ])
    return summary


def _limit_flags(ctx, flags, rules) -> None:
    for key, value, direction, code in rules:
        threshold = policy_or_flag(ctx, key, flags)
        if threshold is None:
            continue
        if (direction == "above" and value > threshold) or (
                direction == "below" and value < threshold):
            flags.append(flag(code, value=value, limit=threshold))


def _load(ctx: CheckContext, flags: list[dict]):
    """Rows and the matching profile, or a flag saying why not."""
    try:
        rows = read_rows(ctx.path, ctx.format)
    except TableUnreadable:
        flags.append(flag("table_unreadable"))
        return None, None
    mapping = match_profile(rows, ctx.profiles)
    if mapping is None:
        flags.append(flag("no_column_profile"))
        return rows, None
    return rows, mapping


def _not_tabular(ctx: CheckContext) -> CheckOutcome | None:
    if ctx.format not in {"csv", "xlsx"}:
        # A PDF statement is read by the PDF check; figures need the bank's export.
        return CheckOutcome.of({"skipped": "not a spreadsheet"},
                               [flag("records_not_tabular", severity="info")])
    return None


def check_bank_statement(ctx: CheckContext) -> CheckOutcome:
    """A known profile's layout, or one inferred from headers and content (issue 19); the
    figures count as verified only when read with a confirmed or proven mapping and the
    running balance adds up. Then totals, red-flag patterns and flows between counterparties."""
    from apps.documents.statements.check import read_statement

    if (skipped := _not_tabular(ctx)) is not None:
        return skipped
    flags: list[dict] = []
    read = read_statement(ctx, flags)
    if read.txns is None:
        return CheckOutcome.of(read.findings, flags)
    base = read.findings
    if not read.txns:
        return CheckOutcome.of({**base, "verified": False, "unverified_reason": "no_transactions"},
                               [*flags, flag("no_transactions")], fail=True)
    cash_keywords = read.profile.cash_keywords if read.profile is not None else []
    summary = analyse_statement(read.txns, ctx, cash_keywords, flags)
    from apps.core.names import RelatedParties
    from apps.documents.statements.flows import analyse_flows

    # Related parties: the party graph's by identity (accounts, USCC, registered names and
    # aliases), names declared in the document's metadata as text (issue 19).
    names = set((ctx.metadata or {}).get("related_parties") or []) | set(ctx.related_parties)
    related = RelatedParties(ctx.related_identities, names)
    summary["flows"] = analyse_flows(read.txns, ctx.policy, flags, related=related,
                                     cash_words=cash_keywords)
    return CheckOutcome.of({**base, **summary}, flags)


def _series(ctx: CheckContext, fields: tuple[str, ...]) -> tuple[dict, list[dict], bool]:
    """Monthly sums of `fields` (period column + numbers); (findings, flags, failed)."""
    flags: list[dict] = []
    rows, mapping = _load(ctx, flags)
    extra: dict = {}
    if mapping is None and rows is not None:  # issue 19: any layout, as statements
        from apps.documents.statements.check import inferred_series_mapping

        kind = "tax_record" if "revenue" in fields else "utility_bill"
        mapping, extra = inferred_series_mapping(ctx, rows, flags, kind)
    if mapping is None:
        return ({"verified": False, "unverified_reason":
                 "unreadable" if rows is None else "unconfirmed_mapping", **extra}, flags, False)
    series: dict[str, dict[str, Decimal]] = defaultdict(lambda: {f: ZERO for f in fields})
    skipped = 0
    from apps.documents.statements.infer import _is_totals

    for row in rows[mapping.header_row + 1:]:
        if _is_totals(row):  # 合计 / Total rows are not a month
            skipped += 1
            continue
        period = parse_period(cell(row, mapping, "period"))
        values = {f: parse_amount(cell(row, mapping, f)) for f in fields}
        if period is None or all(v is None for v in values.values()):
            skipped += 1
            continue
        for f, v in values.items():
            series[period][f] += v or ZERO
    findings = {**extra, "profile": mapping.profile.code, "skipped_rows": skipped,
                "months": len(series), "months_covered": months_spanned(series),
                "monthly": {m: {f: str(v) for f, v in vals.items()}
                            for m, vals in sorted(series.items())}}
    if not series:
        return findings, [*flags, flag("no_records")], True
    if {"reading_start", "reading_end", "kwh"} <= set(mapping.columns):
        _meter_check(ctx, rows, mapping, findings, flags)
    if {"revenue", "tax_paid"} <= set(mapping.columns):
        _tax_check(ctx, rows, mapping, findings, flags)
    window = last_12(list(series))
    end = max(_month_index(m) for m in series)
    for f in fields:
        last = sum((series[m][f] for m in window), ZERO)
        prior = sum((v[f] for m, v in series.items() if 12 <= end - _month_index(m) < 24),
                    ZERO)
        findings[f"{f}_12m"] = str(last)
        if prior > 0:
            change = ((last - prior) / prior).quantize(Decimal("0.0001"))
            findings[f"{f}_yoy_change"] = str(change)
            decline = policy_or_flag(ctx, "documents.records.yoy_decline_max", flags)
            if decline is not None and -change > decline:
                flags.append(flag("series_decline", field=f, change=change, limit=decline))
    return findings, flags, False


def _meter_check(ctx, rows, mapping, findings, flags) -> None:
    """Meter readings are a utility record's running balance: usage = end − start, and each
    start is the previous end. A record whose readings do not add up was edited or mis-read,
    and its figures are not verified (issue 19, as a statement's balance)."""
    from apps.documents.statements.infer import _is_totals, meter_breaks

    body = [r for r in rows[mapping.header_row + 1:]
            if not _is_totals(r) and parse_period(cell(r, mapping, "period"))]
    breaks = meter_breaks(*[[parse_amount(cell(r, mapping, f)) for r in body]
                            for f in ("reading_start", "reading_end", "kwh")])
    findings["meter_breaks"] = breaks
    limit = policy_or_flag(ctx, "documents.statement.balance_breaks_max", flags)
    if limit is not None and breaks > limit:
        flags.append(flag("meter_discontinuity", breaks=breaks, limit=limit))
        findings.update(verified=False, unverified_reason="meter_discontinuity")


def _tax_check(ctx, rows, mapping, findings, flags) -> None:
    """A tax record's arithmetic is its running balance (issue 19): tax = base × rate on every
    row (the rate column's, or the one rate the record keeps to), totals rows = the sum of the
    periods, each month once. A record that breaks it was edited or mis-read — revenue
    inflated with the tax left alone — and its figures are not verified."""
    from apps.documents.statements.infer import _is_totals, tax_record_check

    start = mapping.header_row + 1
    data, totals = [], []
    for index, row in enumerate(rows[start:], start):
        if not any(c not in (None, "") for c in row):
            continue
        if _is_totals(row):
            totals.append(index)
        elif parse_period(cell(row, mapping, "period")):
            data.append(index)
    checked = tax_record_check(rows, mapping.columns, data, totals, ctx.policy)
    if checked is None:
        for key in ("documents.tax.rate_tolerance", "documents.tax.rounding_cny",
                    "documents.tax.flat_rate_share_min"):
            policy_or_flag(ctx, key, flags)
        return
    findings["tax_check"] = checked.as_json()
    limit = policy_or_flag(ctx, "documents.tax.breaks_max", flags)
    if limit is not None and checked.breaks > limit:
        flags.append(flag("tax_inconsistent", breaks=checked.breaks, limit=limit,
                          rate_breaks=len(checked.rate_breaks),
                          totals_breaks=len(checked.totals_breaks),
                          period_breaks=len(checked.duplicate_periods)
                          + len(checked.missing_periods),
                          rows=checked.rate_breaks[:12], totals=checked.totals_breaks,
                          duplicate_periods=checked.duplicate_periods[:12],
                          missing_periods=checked.missing_periods[:12]))
        findings.update(verified=False, unverified_reason="tax_inconsistent")


def check_tax_record(ctx: CheckContext) -> CheckOutcome:
    if (skipped := _not_tabular(ctx)) is not None:
        return skipped
    findings, flags, failed = _series(ctx, ("revenue", "tax_paid"))
    if not failed and "monthly" in findings:
        zero = [m for m, v in findings["monthly"].items() if Decimal(v["revenue"]) == 0]
        if zero:
            flags.append(flag("zero_filings", months=len(zero), severity="info"))
        findings["figures"] = {"tax.revenue_12m": findings.get("revenue_12m"),
                               "tax.paid_12m": findings.get("tax_paid_12m")}
    return CheckOutcome.of(findings, flags, fail=failed)


def check_utility_bill(ctx: CheckContext) -> CheckOutcome:
    if (skipped := _not_tabular(ctx)) is not None:
        return skipped
    findings, flags, failed = _series(ctx, ("kwh", "cost"))
    if not failed and "monthly" in findings:
        findings["figures"] = {"utility.kwh_12m": findings.get("kwh_12m")}
    return CheckOutcome.of(findings, flags, fail=failed)
