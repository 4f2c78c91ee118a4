"""Columns of a statement or tax record inferred from its headers and its content.

No column profile is needed: a header lexicon (Chinese and English) proposes fields, and the
content decides. Dates are the column whose cells parse as dates; money columns are numeric;
for a bank statement every assignment of the numeric columns to amount / debit / credit /
balance is tried and the one under which the running balance holds row after row wins
(balance continuity, forward or in reverse date order). The share of rows on which it holds
is the mapping's confidence. Preamble rows above the header and totals rows (合计, Total) are
set aside, not read as transactions.

With no balance column nothing checks the amounts, so the confidence stays below any sensible
auto-accept value and a person confirms the mapping once (`profiles.py`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from apps.documents.checks.tables import DEFAULT_DATE_FORMATS, parse_amount, parse_period

SCAN_ROWS = 30        # titles, account numbers and dates sit above the header
SAMPLE_ROWS = 400     # content statistics need no more rows than this
CENT = Decimal("0.01")

# Header texts that suggest a field, compared after normalising case, spaces and brackets;
# a substring match counts (借方发生额(支出) contains 借方). Words, not thresholds.
LEXICON: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "记账日期", "入账日期", "交易时间", "日期", "date", "valuedate",
             "postingdate", "transactiondate", "txndate"),
    "description": ("摘要", "用途", "附言", "备注", "交易类型", "description", "narrative",
                    "details", "memo", "remark", "particulars"),
    "counterparty": ("对方户名", "对方账户名称", "对方名称", "交易对手", "对方单位", "收/付款人",
                     "counterparty", "payee", "payer", "beneficiary", "otherparty"),
    "counterparty_account": ("对方账号", "对方卡号", "对方账户", "对手账号", "收/付款人账号",
                             "counterpartyaccount", "payeeaccount", "accountno", "accountnumber"),
    "debit": ("借方", "支出", "付出", "转出", "debit", "withdrawal", "paidout", "moneyout", "dr"),
    "credit": ("贷方", "收入", "存入", "转入", "credit", "deposit", "paidin", "moneyin", "cr"),
    "amount": ("交易金额", "发生额", "金额", "amount", "value"),
    "direction": ("借贷标志", "借贷方向", "收支标志", "收支", "方向", "dr/cr", "direction",
                  "type(dr/cr)"),
    "balance": ("余额", "账户余额", "balance", "runningbalance"),
    "channel": ("交易渠道", "渠道", "channel"),
}
TAX_LEXICON: dict[str, tuple[str, ...]] = {
    "period": ("税款所属期", "所属期", "所属月份", "申报期", "月份", "period", "month",
               "taxperiod"),
    "revenue": ("应税销售额", "销售额", "营业收入", "收入", "计税依据", "计税销售额", "营业额",
                "revenue", "sales", "turnover", "taxablesales", "taxbase"),
    "tax_paid": ("实缴税额", "已缴税额", "实缴", "缴纳税额", "应纳税额", "taxpaid", "tax", "vat",
                 "vatpaid"),
    # 税率 / 征收率: the rate the tax was computed at, the tax record's check (taxcheck.py)
    "rate": ("税率", "征收率", "预征率", "rate", "taxrate", "vatrate", "levyrate"),
}
TOTALS_WORDS = ("合计", "总计", "小计", "本页", "累计", "total", "subtotal", "sum")
DIRECTION_IN = {"贷", "收", "收入", "c", "cr", "credit", "in", "+"}
DIRECTION_OUT = {"借", "支", "支出", "d", "dr", "debit", "out", "-"}
DATE_FORMATS = [*DEFAULT_DATE_FORMATS, "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%dT%H:%M:%S",
                "%d %b %Y", "%b %d, %Y"]


def norm(text) -> str:
    text = str(text or "").strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"[\s_]+", "", text)


@dataclass
class ProposedMapping:
    """What the reader believes the columns are, how sure it is, and why."""

    kind: str
    header_row: int | None
    columns: dict[str, int]
    headers: list[str]
    date_format: str | None = None
    sign: str = ""                      # "signed" | "debit_credit" | "direction" (statements)
    reverse_order: bool = False         # rows newest first
    confidence: Decimal = Decimal("0")
    continuity: Decimal | None = None   # share of consecutive rows whose balance adds up
    data_rows: list[int] = field(default_factory=list)
    totals_rows: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        data["confidence"] = str(self.confidence)
        data["continuity"] = None if self.continuity is None else str(self.continuity)
        data.pop("data_rows")
        data["transactions"] = len(self.data_rows)
        return data

    def header_for(self, field_name: str) -> str:
        index = self.columns.get(field_name)
        if index is None or index >= len(self.headers):
            return ""
        return self.headers[index]


def _cell(row, index):
    return row[index] if index is not None and index < len(row) else None


def _is_date(value, fmt: str) -> bool:
    if isinstance(value, dt.date):
        return True
    text = str(value or "").strip()
    if not text:
        return False
    try:
        dt.datetime.strptime(text, fmt)
        return True
    except ValueError:
        return False


def parse_date_as(value, fmt: str | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text or not fmt:
        return None
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def _lexicon_hits(row: list, lexicon) -> dict[str, int]:
    """field → column for each header cell that names a field; the most specific (longest)
    alias wins a cell, and each field takes its first column."""
    hits: dict[str, int] = {}
    claimed: set[int] = set()
    candidates = []
    for index, value in enumerate(row):
        text = norm(value)
        if not text or len(text) > 40:
            continue
        for field_name, aliases in lexicon.items():
            for alias in aliases:
                exact = text == alias
                if exact or (len(alias) >= 2 and alias in text):
                    # "金额" in 支出金额 is generic: debit/credit words are more specific
                    generic = 0.5 if field_name == "amount" else 0
                    candidates.append((-(len(alias) + (100 if exact else 0) - generic), index,
                                       field_name))
    for _score, index, field_name in sorted(candidates):
        if index in claimed or field_name in hits:
            continue
        hits[field_name] = index
        claimed.add(index)
    return hits


def find_header(rows: list[list], lexicon) -> tuple[int | None, dict[str, int]]:
    best, best_hits = None, {}
    for index, row in enumerate(rows[:SCAN_ROWS]):
        hits = _lexicon_hits(row, lexicon)
        if len(hits) >= 2 and len(hits) > len(best_hits):
            best, best_hits = index, hits
    return best, best_hits


def _is_totals(row: list) -> bool:
    for value in row:
        if isinstance(value, str) and value.strip():
            text = norm(value)
            return any(text.startswith(w) for w in TOTALS_WORDS)
    return False


def _date_column(rows: list[list], width: int, prefer: int | None):
    """(column, format, share of rows parsed) of the best date column; the header's choice
    wins a tie."""
    sample = rows[:SAMPLE_ROWS]
    best = (None, None, 0.0)
    if not sample:
        return best
    scored = []
    for index in range(width):
        values = [_cell(r, index) for r in sample]
        if any(isinstance(v, dt.date) for v in values):
            share = sum(isinstance(v, dt.date) for v in values) / len(values)
            scored.append((share, index == prefer, -index, index, "native"))
            continue
        texts = [v for v in values if v not in (None, "")][:50]
        if not texts or parse_amount(texts[0]) is not None and not _is_date(texts[0], "%Y%m%d"):
            continue
        fmt_best = max(DATE_FORMATS, key=lambda f: sum(_is_date(v, f) for v in texts))
        if not any(_is_date(v, fmt_best) for v in texts):
            continue
        share = sum(_is_date(v, fmt_best) for v in values) / len(values)
        scored.append((share, index == prefer, -index, index, fmt_best))
    if not scored:
        return best
    share, _pref, _neg, index, fmt = max(scored)
    best = (index, fmt, share)
    # Day-first against month-first: keep the one under which dates stay in order.
    if fmt in {"%d/%m/%Y", "%m/%d/%Y"}:
        ranks = {}
        for candidate in ("%d/%m/%Y", "%m/%d/%Y"):
            days = [d for d in (parse_date_as(_cell(r, index), candidate) for r in sample) if d]
            up = sum(1 for a, b in itertools.pairwise(days) if a <= b)
            down = sum(1 for a, b in itertools.pairwise(days) if a >= b)
            ranks[candidate] = (len(days), max(up, down))
        fmt = max(ranks, key=lambda f: ranks[f])
        best = (index, fmt, ranks[fmt][0] / len(sample))
    return best


def _numeric_columns(rows: list[list], width: int, skip: set[int]) -> dict[int, list]:
    """Columns at least a third numeric over the sample (blank cells allowed: debit/credit)."""
    found = {}
    sample = rows[:SAMPLE_ROWS]
    for index in range(width):
        if index in skip:
            continue
        values = [parse_amount(_cell(r, index)) for r in sample]
        raw = [_cell(r, index) for r in sample]
        numeric = sum(v is not None for v in values)
        filled = sum(v not in (None, "") for v in raw)
        if filled and numeric / filled >= 0.95 and numeric >= max(2, len(sample) // 3):
            found[index] = values
    return found


def _direction(value) -> int:
    text = norm(value)
    if text in DIRECTION_IN:
        return 1
    if text in DIRECTION_OUT:
        return -1
    return 0


def _continuity(amounts: list, balances: list) -> tuple[float, bool]:
    """Share of consecutive rows where balance[i] = balance[i-1] + amount[i], reading the rows
    forward or (newest-first exports) backward; (share, reverse)."""
    pairs_fwd = pairs_rev = total = 0
    for i in range(1, len(amounts)):
        a, b, prev_b, prev_a = amounts[i], balances[i], balances[i - 1], amounts[i - 1]
        if b is None or prev_b is None:
            continue
        total += 1  # a row with a balance but no amount breaks the mapping
        if a is None:
            continue
        if abs(prev_b + a - b) <= CENT:
            pairs_fwd += 1
        if prev_a is not None and abs(b + prev_a - prev_b) <= CENT:
            pairs_rev += 1
    if not total:
        return 0.0, False
    return (pairs_fwd / total, False) if pairs_fwd >= pairs_rev else (pairs_rev / total, True)


def infer_statement(rows: list[list]) -> ProposedMapping | None:
    """The most likely mapping of a bank statement's columns, or None if no table is there."""
    header_row, hits = find_header(rows, LEXICON)
    start = header_row + 1 if header_row is not None else 0
    body = [(i, r) for i, r in enumerate(rows[start:], start)
            if any(c not in (None, "") for c in r)]
    data = [(i, r) for i, r in body if not _is_totals(r)]
    totals = [i for i, r in body if _is_totals(r)]
    if header_row is None:  # headerless: skip the preamble up to the first dated row
        for k, (_i, r) in enumerate(data):
            if _date_column([r], len(r), None)[0] is not None and sum(
                    parse_amount(c) is not None for c in r) >= 1:
                data = data[k:]
                break
    if not data:
        return None
    width = max(len(r) for _i, r in data[:SAMPLE_ROWS])
    plain = [r for _i, r in data]
    date_col, date_fmt, date_share = _date_column(plain, width, hits.get("date"))
    if date_col is None or date_share < 0.5:
        return None
    dated = [(i, r) for i, r in data if (parse_date_as(_cell(r, date_col), date_fmt)
                                         if date_fmt != "native" else
                                         isinstance(_cell(r, date_col), dt.date))]
    plain = [r for _i, r in dated]
    headers = [str(c or "").strip() for c in rows[header_row]] if header_row is not None else []
    skip = {date_col} | {hits[f] for f in ("description", "counterparty", "channel", "direction",
                                           "counterparty_account") if f in hits}
    numeric = _numeric_columns(plain, width, skip)
    direction_col = hits.get("direction")
    directions = [(_direction(_cell(r, direction_col)) if direction_col is not None else 0)
                  for r in plain]
    reasons: list[str] = []
    best = None  # (score, header agreement, columns, sign, reverse, continuity)

    def consider(score, columns, sign, reverse, continuity):
        agreement = sum(1 for f, i in columns.items() if hits.get(f) == i)
        key = (round(score, 4), agreement)
        nonlocal best
        if best is None or key > best[0]:
            best = (key, columns, sign, reverse, continuity)

    cols = list(numeric)
    for b in cols:
        balances = numeric[b]
        others = [c for c in cols if c != b]
        for a in others:  # one signed amount column, or unsigned with a direction column
            amounts = numeric[a]
            if direction_col is not None and any(directions):
                signed = [abs(v) * d if v is not None and d else None
                          for v, d in zip(amounts, directions, strict=False)]
                share, rev = _continuity(signed, balances)
                consider(share, {"amount": a, "balance": b, "direction": direction_col},
                         "direction", rev, share)
            share, rev = _continuity(amounts, balances)
            consider(share, {"amount": a, "balance": b}, "signed", rev, share)
        for d, c in itertools.permutations(others, 2):
            amounts = [((numeric[c][k] or 0) - abs(numeric[d][k] or 0))
                       if (numeric[c][k] is not None or numeric[d][k] is not None) else None
                       for k in range(len(balances))]
            share, rev = _continuity(amounts, balances)
            consider(share, {"debit": d, "credit": c, "balance": b}, "debit_credit", rev, share)
    if best is None or best[0][0] < 0.5:
        # No balance that adds up: fall back on the headers alone, and say so.
        columns = {}
        if "debit" in hits and "credit" in hits:
            columns, sign = {"debit": hits["debit"], "credit": hits["credit"]}, "debit_credit"
        elif "amount" in hits:
            columns, sign = {"amount": hits["amount"]}, "signed"
            if direction_col is not None:
                columns["direction"], sign = direction_col, "direction"
        else:
            return ProposedMapping(kind="bank_statement", header_row=header_row, columns={},
                                   headers=headers, confidence=Decimal("0"),
                                   reasons=["no_amount_column"])
        if "balance" in hits:
            columns["balance"] = hits["balance"]
        reasons.append("no_balance_continuity")
        continuity, reverse = None, False
        confidence = Decimal("0.5") * Decimal(str(round(date_share, 4)))
    else:
        _key, columns, sign, reverse, share = best
        continuity = Decimal(str(round(share, 4)))
        header_agree = all(hits.get(f) in (None, i) for f, i in columns.items())
        if not header_agree:
            reasons.append("headers_disagree_with_content")
        confidence = (continuity * Decimal(str(round(date_share, 4)))).quantize(
            Decimal("0.0001"))
        if not header_agree:
            confidence = min(confidence, Decimal("0.9"))
    columns = {"date": date_col, **columns}
    for f in ("description", "counterparty", "channel", "counterparty_account"):
        if f in hits and hits[f] not in columns.values():
            columns[f] = hits[f]
    if "counterparty" not in columns:  # the most varied text column that is not a description
        text_cols = _text_columns(plain, width, set(columns.values()))
        if text_cols:
            columns["counterparty"] = text_cols[0]
    if header_row is None:
        reasons.append("no_header_row")
    return ProposedMapping(
        kind="bank_statement", header_row=header_row, columns=columns, headers=headers,
        date_format=None if date_fmt == "native" else date_fmt, sign=sign,
        reverse_order=reverse, confidence=confidence.quantize(Decimal("0.0001")),
        continuity=continuity, data_rows=[i for i, _r in dated], totals_rows=totals,
        reasons=reasons)


def _text_columns(rows, width, skip) -> list[int]:
    scored = []
    for index in range(width):
        if index in skip:
            continue
        values = [str(_cell(r, index) or "").strip() for r in rows[:SAMPLE_ROWS]]
        texts = [v for v in values if v and parse_amount(v) is None]
        if len(texts) < len(values) * 0.5:
            continue
        scored.append((-len(set(texts)), index))
    return [i for _s, i in sorted(scored)]


UTILITY_LEXICON: dict[str, tuple[str, ...]] = {
    "period": ("账期", "抄表月份", "计费月份", "结算月份", "所属期", "月份", "年月", "期间",
               "period", "month", "billingperiod", "billingmonth"),
    "kwh": ("用电量", "用水量", "用气量", "用量", "电量", "计费电量", "抄见电量", "kwh", "usage",
            "consumption", "units", "volume"),
    "cost": ("电费", "水费", "燃气费", "应缴金额", "实缴金额", "应收金额", "费用", "金额",
             "cost", "charge", "charges", "amount", "amountdue", "billamount"),
    "reading_start": ("起码", "上次读数", "上月示数", "上期读数", "startreading",
                      "previousreading", "openingreading"),
    "reading_end": ("止码", "本次读数", "本月示数", "本期读数", "endreading",
                    "currentreading", "closingreading"),
}
SERIES_FIELDS = {"tax_record": ("period", "revenue", "tax_paid"),
                 "utility_bill": ("period", "kwh", "cost")}
SERIES_LEXICON = {"tax_record": TAX_LEXICON, "utility_bill": UTILITY_LEXICON}


def _series_body(rows: list[list], lexicon):
    header_row, hits = find_header(rows, lexicon)
    start = header_row + 1 if header_row is not None else 0
    body = [(i, r) for i, r in enumerate(rows[start:], start)
            if any(c not in (None, "") for c in r)]
    totals = [i for i, r in body if _is_totals(r)]
    data = [(i, r) for i, r in body if not _is_totals(r)]
    return header_row, hits, totals, data


def _period_column(plain: list[list], width: int, prefer: int | None):
    """(column, share) of the first column whose cells parse as months (≥ 80%)."""
    for index in ([prefer] if prefer is not None else []) + list(range(width)):
        share = sum(parse_period(_cell(r, index)) is not None for r in plain) / len(plain)
        if share >= 0.8 and not _mostly_plain_numbers(plain, index):
            return index, share
    return None, 0.0


def _mostly_plain_numbers(plain, index) -> bool:
    """A money column of values like 202512.50 must not pass for a period column."""
    values = [str(_cell(r, index) or "").strip() for r in plain[:SAMPLE_ROWS]]
    return sum(bool(re.fullmatch(r"\d+\.\d+|\d{7,}", v)) for v in values) > len(values) / 2


def infer_tax_record(rows: list[list]) -> ProposedMapping | None:
    """Period, revenue and tax paid: by header, then by content (periods parse; revenue is the
    larger money column; tax paid is a fraction of it on every row, which is the check)."""
    return infer_series(rows, "tax_record")


def infer_utility_record(rows: list[list]) -> ProposedMapping | None:
    """Period, usage (kWh, m³) and cost: by header, then by content. The checks are the
    meter: with start and end readings, usage = end − start and each start is the previous
    end (the utility's running balance); without them, cost / usage is the tariff, which holds
    steady row after row."""
    return infer_series(rows, "utility_bill")


def infer_series(rows: list[list], kind: str, policy=None) -> ProposedMapping | None:
    """A monthly series (tax or utility record) in any layout: header lexicon first, content
    second, a check on the content (tax a fraction of sales; usage the meter's difference, or
    a steady tariff) and a confidence that is 1 only when the headers named every column the
    content confirms. A tax record's columns that the headers did not name are proven by the
    record's own arithmetic (`taxcheck.py`: tax = base × rate, totals = sum of the periods,
    each month once), which needs the policy's tolerances (`policy`); without it, or when
    no rate or totals apply, they are not proven and a person confirms them."""
    header_row, hits, totals, data = _series_body(rows, SERIES_LEXICON[kind])
    if not data:
        return None
    width = max(len(r) for _i, r in data[:SAMPLE_ROWS])
    plain = [r for _i, r in data]
    period_col, period_share = _period_column(plain, width, hits.get("period"))
    if period_col is None:
        return None
    rows_ok = [(i, r) for i, r in data if parse_period(_cell(r, period_col))]
    plain = [r for _i, r in rows_ok]
    rate_col = hits.get("rate") if kind == "tax_record" else None
    numeric = _numeric_columns(plain, width, {period_col, rate_col} - {None})
    headers = [str(c or "").strip() for c in rows[header_row]] if header_row is not None else []
    reasons: list[str] = []
    if kind == "tax_record":
        columns, check = _tax_columns(hits, numeric, reasons)
    else:
        columns, check = _utility_columns(hits, numeric, reasons)
    if columns is None:
        return None
    columns = {"period": period_col, **columns}
    named = all(hits.get(f) == i for f, i in columns.items())
    if header_row is None:
        reasons.append("no_header_row")
    proof = Decimal("1") if named else Decimal("0.8")
    tax_check = None
    if kind == "tax_record" and "tax_paid" in columns:
        tax_check = tax_record_check(rows, columns, [i for i, _r in rows_ok], totals, policy)
        if tax_check is None:
            reasons.append("tax_check_not_run")
        elif not tax_check.applicable:
            reasons.append("no_tax_check")
        elif not named:  # the record's arithmetic is what proves a column found by content
            proof = tax_check.share
            reasons.append("proven_by_tax_check" if proof == 1 else "tax_check_breaks")
    confidence = Decimal(str(round(period_share, 4))) * check * proof
    return ProposedMapping(kind=kind, header_row=header_row, columns=columns,
                           headers=headers, confidence=confidence.quantize(Decimal("0.0001")),
                           continuity=check, data_rows=[i for i, _r in rows_ok],
                           totals_rows=totals, reasons=reasons)


def tax_record_check(rows: list[list], columns: dict[str, int], data_rows: list[int],
                     totals_rows: list[int], policy):
    """`taxcheck.check_tax` over a tax record's rows under a mapping (inferred or a
    profile's); None without policy values."""
    from apps.documents.checks.tables import parse_period
    from apps.documents.statements.taxcheck import check_tax, parse_rate

    if policy is None:
        return None

    def values(indices, name, parse):
        col = columns.get(name)
        return [parse(_cell(rows[i], col)) if col is not None else None for i in indices]

    rates = values(data_rows, "rate", parse_rate) if "rate" in columns else None
    totals = list(zip(values(totals_rows, "revenue", parse_amount),
                      values(totals_rows, "tax_paid", parse_amount), strict=False))
    return check_tax(values(data_rows, "period", parse_period),
                     values(data_rows, "revenue", parse_amount),
                     values(data_rows, "tax_paid", parse_amount), rates=rates,
                     totals=totals, policy=policy)


def _tax_columns(hits, numeric, reasons):
    revenue, tax = hits.get("revenue"), hits.get("tax_paid")
    if revenue not in numeric:
        revenue = max(numeric, key=lambda c: sum(v or 0 for v in numeric[c]), default=None)
        reasons.append("revenue_by_content")
    if revenue is None:
        return None, Decimal("0")
    if tax not in numeric or tax == revenue:
        tax = None
        for c in numeric:
            if c != revenue and _fraction_share(numeric[c], numeric[revenue]) >= 0.95:
                tax = c
                reasons.append("tax_paid_by_content")
                break
    columns = {"revenue": revenue}
    rate = hits.get("rate")
    if rate is not None and rate not in (revenue, tax):
        columns["rate"] = rate
    check = Decimal("1")
    if tax is not None:
        columns["tax_paid"] = tax
        check = Decimal(str(round(_fraction_share(numeric[tax], numeric[revenue]), 4)))
    return columns, check


def _utility_columns(hits, numeric, reasons):
    columns: dict[str, int] = {}
    start, end = hits.get("reading_start"), hits.get("reading_end")
    meter = None
    if start in numeric and end in numeric:
        meter = [(e - s) if s is not None and e is not None else None
                 for s, e in zip(numeric[start], numeric[end], strict=False)]
        columns.update(reading_start=start, reading_end=end)
    usage, named_cost = hits.get("kwh"), hits.get("cost")
    if usage not in numeric:
        usage = None
        if meter is not None:  # the column that is the meter's difference is the usage
            for c in numeric:
                if c not in (start, end) and _equal_share(numeric[c], meter) >= 0.95:
                    usage = c
                    break
        elif named_cost in numeric:  # the column the named cost is a steady price of
            steady = [(_steady_share(numeric[named_cost], numeric[c]), c) for c in numeric
                      if c != named_cost]
            steady = [(share, c) for share, c in steady if share >= 0.9]
            usage = max(steady)[1] if steady else None
        if usage is not None:
            reasons.append("usage_by_content")
    if usage is None:
        return None, Decimal("0")
    columns["kwh"] = usage
    cost = hits.get("cost")
    if cost not in numeric or cost == usage:
        cost = None
        free = [c for c in numeric if c not in columns.values()]
        steady = [(c, _steady_share(numeric[c], numeric[usage])) for c in free]
        steady = [(c, s) for c, s in steady if s >= 0.9]
        if steady:
            cost = max(steady, key=lambda cs: cs[1])[0]
            reasons.append("cost_by_content")
    if cost is not None:
        columns["cost"] = cost
    if meter is not None:
        check = _meter_share(numeric[start], numeric[end], numeric[usage])
        if check < 1:
            reasons.append("meter_readings_disagree")
            if hits.get("kwh") == usage:
                # Every column named by its header: the mapping stands, and the readings that
                # disagree are the figures' problem (meter_discontinuity at read time).
                check = 1.0
    elif cost is not None:
        check = _steady_share(numeric[cost], numeric[usage])
    else:
        check = 0.5  # usage alone: nothing checks it
        reasons.append("no_usage_check")
    return columns, Decimal(str(round(check, 4)))


def _equal_share(values, expected) -> float:
    pairs = [(v, e) for v, e in zip(values, expected, strict=False) if e is not None]
    if not pairs:
        return 0.0
    return sum(1 for v, e in pairs if v is not None and abs(v - e) <= CENT) / len(pairs)


def meter_breaks(starts, ends, usage) -> int:
    """Rows whose usage is not end − start, or whose start is not the neighbouring row's end
    (the better of the two reading orders): the utility record's balance breaks."""
    rows = [(s, e, u) for s, e, u in zip(starts, ends, usage, strict=False)
            if s is not None and e is not None and u is not None]
    bad = sum(1 for s, e, u in rows if abs(e - s - u) > CENT)
    fwd = sum(1 for a, b in itertools.pairwise(rows) if abs(b[0] - a[1]) > CENT)
    rev = sum(1 for a, b in itertools.pairwise(rows) if abs(a[0] - b[1]) > CENT)
    return bad + min(fwd, rev)


def _meter_share(starts, ends, usage) -> float:
    """Share of rows where usage = end − start and start = the previous row's end (either
    reading order)."""
    rows = [(s, e, u) for s, e, u in zip(starts, ends, usage, strict=False)
            if s is not None and e is not None and u is not None]
    if not rows:
        return 0.0
    good = sum(1 for s, e, u in rows if abs(e - s - u) <= CENT)
    fwd = sum(1 for a, b in itertools.pairwise(rows) if abs(b[0] - a[1]) <= CENT)
    rev = sum(1 for a, b in itertools.pairwise(rows) if abs(a[0] - b[1]) <= CENT)
    chained = (max(fwd, rev) / (len(rows) - 1)) if len(rows) > 1 else 1.0
    return (good / len(rows)) * chained


def _steady_share(cost, usage) -> float:
    """Share of rows whose price (cost / usage) is within 25% of the median price: a tariff
    moves by tiers and seasons, not at random."""
    prices = sorted(c / u for c, u in zip(cost, usage, strict=False)
                    if c is not None and u and c > 0)
    if len(prices) < 3:
        return 0.0
    median = prices[len(prices) // 2]
    return sum(1 for p in prices if abs(p - median) <= median * Decimal("0.25")) / len(
        [c for c in cost if c is not None] or [1])


def _fraction_share(part: list, whole: list) -> float:
    """Share of rows where 0 <= part <= 30% of whole (tax is a fraction of sales)."""
    pairs = [(p, w) for p, w in zip(part, whole, strict=False) if p is not None and w]
    if not pairs:
        return 0.0
    return sum(1 for p, w in pairs if 0 <= p <= w * Decimal("0.3")) / len(pairs)
