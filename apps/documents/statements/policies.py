"""The thresholds of the statement reader and the flow analysis, seeded as policy values with
their sources (domain reference §0.2: policy data, never constants). Evidence G: a design
default a bank calibrates on its own files; M: from a regulation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from apps.core.policy import Evidence

_G, _M = Evidence.DESIGN, Evidence.UNVERIFIED
_REF = "Domain reference"

# key, value, unit, evidence, source, description (en)
STATEMENT_POLICIES: list[tuple[str, str, str, str, str, str]] = [
    ("documents.statement.infer_min_confidence", "0.98", "ratio", _G,
     "Issue 19: a mapping is used unconfirmed only when the running balance proves it [G]",
     "Inferred column mappings at or above this confidence are read without confirmation"),
    ("documents.statement.balance_breaks_max", "0", "rows", _G,
     f"{_REF} §3.3 F (statement authenticity): a bank's export is internally consistent, so "
     "a row whose running balance does not add up was edited or mis-read [G]",
     "Rows whose running balance does not add up accepted before the figures are unverified"),
    ("documents.tax.rate_tolerance", "0.01", "ratio", _G,
     "VAT is computed per invoice and rounded to the fen (增值税暂行条例 art. 4 and 11; "
     "发票管理办法), so a month's tax can differ from base × rate by a small share; issue 19: "
     "a tax record's arithmetic is its internal check [G]",
     "How far a month's tax may be from its taxable base times its rate, as a share of it"),
    ("documents.tax.rounding_cny", "1", "CNY", _G,
     "Rounding to the fen on each invoice and each line of a return adds up to cents, not "
     "yuan (税收征收管理法实施细则: amounts in yuan to the fen) [G]",
     "Smallest difference in yuan counted as a break of a tax record's rate or totals"),
    ("documents.tax.flat_rate_share_min", "0.5", "ratio", _M,
     "A small-scale taxpayer pays VAT at one levy rate on its sales (增值税暂行条例 art. 12: "
     "3%; 财政部 税务总局公告2023年第19号: 1% to 2027), so most months sit on one rate; a "
     "general taxpayer pays output less input tax (art. 4), which follows no rate",
     "Share of months on one rate for a record without a rate column to be held to it"),
    ("documents.tax.breaks_max", "0", "rows", _G,
     f"{_REF} §3.3 E (tax records as evidence of sales): a bureau's export is internally "
     "consistent, so a month off its rate, a total that is not the sum, or a month listed "
     "twice or missing was edited or mis-read [G]",
     "Breaks of a tax record's arithmetic accepted before its figures are unverified"),
    ("documents.flow.round_trip_lag_days", "7", "days", _G,
     f"{_REF} §3.3 F2/F3 fast-in-fast-out; issue 19: returns lagged a few days [G]",
     "Days within which money sent out and returned counts as a round trip"),
    ("documents.flow.round_trip_tolerance", "0.02", "ratio", _G,
     f"{_REF} §3.3 F3; fees and a small skim on the way back [G]",
     "How much less than what went out a return may be"),
    ("documents.flow.round_trip_max_parts", "3", "parts", _G,
     "Issue 19: split round trips [G]",
     "Most parts a returned amount may be split into"),
    ("documents.flow.round_trip_min_amount", "20000", "CNY", _G,
     f"{_REF} §3.3 F3: material transfers [G]",
     "Smallest transfer considered for a round trip"),
    ("documents.flow.round_trip_min_cycles", "2", "cycles", _G,
     "Issue 19: one coincidence is not a pattern [G]",
     "Round-trip cycles needed before the pattern is flagged"),
    ("documents.flow.round_trip_min_share", "0.005", "ratio", _G,
     f"{_REF} §3.3 F3 (turnover inflated by round trips); honest refunds that line up by "
     "chance stay far below it on generated files [G]",
     "Share of money in that the round trips must carry before the pattern is flagged"),
    ("documents.flow.conduit_max_transactions", "24", "payments", _G,
     "Issue 19: chained round trips; a counterparty paying more often than twice a month is "
     "a business partner, not a conduit [G]",
     "Most payments one way a counterparty may have to be searched as a round-trip conduit"),
    ("documents.flow.round_trip_busy_multiple", "3", "ratio", _G,
     "Issue 19: related parties from the party graph; a group firm that trades with the "
     "borrower every week pays amounts that add up to anything, so only a return that stands "
     "out from its ordinary payments is a round trip [G]",
     "How many times a busy related partner's median payment a return must be to count"),
    ("documents.flow.regular_min_payments", "6", "payments", _G,
     f"{_REF} §3.3 D7 (undeclared liabilities); six monthly instalments [G]",
     "Monthly payments of a near-constant amount needed to look like debt service"),
    ("documents.flow.regular_interval_min_days", "26", "days", _G,
     "Monthly instalments, allowing for month length and weekends [G]",
     "Shortest gap between two instalments of a series"),
    ("documents.flow.regular_interval_max_days", "35", "days", _G,
     "Monthly instalments, allowing for month length and weekends [G]",
     "Longest gap between two instalments of a series"),
    ("documents.flow.regular_amount_spread_max", "0.03", "ratio", _G,
     "Equal instalments (annuity) vary by cents or a rounding [G]",
     "Largest relative difference of an instalment from the series' first amount"),
    ("documents.flow.regular_share_min", "0.8", "ratio", _G,
     "Issue 19: an instalment series is most of what a lender receives; a busy supplier's "
     "payments can line up monthly by chance [G]",
     "Share of a counterparty's payments over the series' span that the series must make up"),
    ("documents.flow.regular_min_amount", "2000", "CNY", _G,
     "Design default [G]: small subscriptions are not debt service",
     "Smallest payment considered for a series"),
    ("documents.flow.cash_in_share_max", "0.3", "ratio", _G,
     f"{_REF} §3.3 F4: cash-heavy inflows cannot be traced [G]",
     "Largest share of money in that may arrive as cash"),
    ("documents.flow.cash_just_below_band", "0.1", "ratio", _M,
     "PBOC Order 2016 No. 3 art. 5 (CNY 50,000 large-value cash); structuring just below it",
     "Width of the band under the large-cash amount where deposits count as kept below it"),
    ("documents.flow.cash_just_below_count_max", "3", "count", _G,
     f"{_REF} §3.3 F4 [G]",
     "Cash deposits just under the large-cash amount accepted before the pattern is flagged"),
    ("control.figures.unverified.severity", "2", "severity", _G,
     "Issue 19: declared figures that no readable record verified are shown to the reviewer",
     "Severity when a cross-check of declared figures could not run on verified records"),
    ("control.flows.severity", "2", "severity", _G,
     f"{_REF} §3.3 F2-F4 → R2 [G]",
     "Severity of a statement flow pattern (round trips, regular payments, cash)"),
    ("control.flows.declared_debt_tolerance", "0.05", "ratio", _G,
     f"{_REF} §3.3 D7 (undeclared liabilities); an instalment changes with a rate reset or "
     "a rounding, and the officer declares a round figure [G]",
     "How far a regular payment's monthly amount may be from a declared debt's repayment "
     "and still be that debt"),
    ("control.flows.declared_debt_differs.severity", "1", "severity", _G,
     f"{_REF} §3.3 D7 (declared liabilities checked against the statement); issue 19: paid "
     "less than declared is a note (a prepaid or rescheduled loan, a rounded declaration); "
     "paid more takes control.flows.severity (understated debt service) [G]",
     "Severity when a declared lender is paid less a month than the repayment declared"),
]


DESCRIPTIONS_ZH = {
    "documents.statement.infer_min_confidence": "推断的列映射置信度达到此值时无需人工确认即可读取",
    "documents.statement.balance_breaks_max": "余额不连续的行数超过此值时，流水数据视为未核实",
    "documents.tax.rate_tolerance": "某月税额与计税依据乘以税率之差占应纳税额的最大比例",
    "documents.tax.rounding_cny": "纳税记录税率或合计核对中计为不符的最小差额（元）",
    "documents.tax.flat_rate_share_min": ("无税率列的纳税记录须有此比例的月份按同一税率计税，"
                                          "才按该税率核对"),
    "documents.tax.breaks_max": ("纳税记录计算不符（税率、合计、所属期重复或缺失）超过此数时，"
                                 "数据视为未核实"),
    "documents.flow.round_trip_lag_days": "资金转出后在此天数内回流即视为资金回流（过桥）",
    "documents.flow.round_trip_tolerance": "回流金额可比转出金额少的最大比例（手续费等）",
    "documents.flow.round_trip_max_parts": "回流金额最多可拆分的笔数",
    "documents.flow.round_trip_min_amount": "纳入资金回流分析的最小单笔金额",
    "documents.flow.round_trip_min_cycles": "资金回流达到此次数才提示风险",
    "documents.flow.round_trip_min_share": "资金回流金额占全部收入达到此比例才提示风险",
    "documents.flow.conduit_max_transactions": "单方向交易笔数不超过此值的对手方才作为通道方检查",
    "documents.flow.round_trip_busy_multiple": ("与借款人频繁往来的关联方回款须达到其付款中位数的"
                                                "此倍数才计为资金回流"),
    "documents.flow.regular_min_payments": "金额基本固定的按月付款达到此笔数即疑似还款付息",
    "documents.flow.regular_interval_min_days": "同一系列中两次分期付款的最短间隔天数",
    "documents.flow.regular_interval_max_days": "同一系列中两次分期付款的最长间隔天数",
    "documents.flow.regular_amount_spread_max": "分期金额相对首期金额的最大偏差比例",
    "documents.flow.regular_share_min": "该系列在其期间内占付给该对手方款项笔数的最低比例",
    "documents.flow.regular_min_amount": "纳入按月付款分析的最小金额",
    "documents.flow.cash_in_share_max": "现金收入占全部收入的最高比例",
    "documents.flow.cash_just_below_band": "大额现金标准以下多大比例范围内的存现视为刻意规避",
    "documents.flow.cash_just_below_count_max": "刚低于大额现金标准的存现笔数上限",
    "control.figures.unverified.severity": "申报数据无法以已核实资料交叉核对时的风险等级",
    "control.flows.severity": "银行流水资金往来异常（回流、固定还款、现金）的风险等级",
    "control.flows.declared_debt_tolerance": "按月固定付款金额与已申报负债月还款额的最大偏差比例，"
                                             "在此范围内视为已申报负债",
    "control.flows.declared_debt_differs.severity": ("向已申报贷款人的按月还款少于申报月还款额时的"
                                                     "风险等级（多于申报额时按资金往来异常等级，"
                                                     "即少报还款负担）"),
}


def statement_policy_values() -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value, *_rest in STATEMENT_POLICIES}


def seed_statement_policies(*, effective_from: dt.date = dt.date(2026, 1, 1)) -> list[str]:
    """Version 1 of each value not on file yet (idempotent; never rewrites a value, §0.2)."""
    from apps.investigations.models import PolicyValue

    created = []
    for key, value, unit, evidence, source, description in STATEMENT_POLICIES:
        if PolicyValue.objects.filter(key=key).exists():
            continue
        PolicyValue.objects.create(key=key, value=Decimal(value), unit=unit, version=1,
                                   effective_from=effective_from, evidence=evidence,
                                   source_citation=source, description_en=description,
                                   description_zh=DESCRIPTIONS_ZH.get(key, ""))
        created.append(key)
    return created
