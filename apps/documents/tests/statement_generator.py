"""Honest and faked bank statements and tax records, in varied layouts (issue 19).

Layouts vary what a reader must survive: column order, Chinese or English headers, one signed
amount / debit and credit / an unsigned amount with a 借/贷 marker, preamble lines, a totals row,
newest-first order, date formats, CSV or xlsx, with or without a running balance.

Flows vary what an investigator must see: an honest trading firm (recurring customers and
suppliers, one-off customers, rent, wages, utilities, some retail cash, the odd supplier
refund) and fakes planted into it: round trips split into parts, returned days later, chained
through a conduit or a related company; hidden loan instalments; cash kept under the
large-cash amount. Each generated file knows its truth (what was planted, the real totals), so
tests measure detection and false flags instead of asserting one example.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

CENT = Decimal("0.01")
CUSTOMERS = ["深圳市华强电子有限公司", "广州恒通贸易有限公司", "东莞市立信五金制品厂",
             "佛山市顺德区美达电器有限公司", "Acme Trading Ltd", "Blue River Foods Co., Ltd.",
             "中山市新宇包装有限公司"]
SUPPLIERS = ["江门市金龙塑料有限公司", "惠州市德赛原料有限公司", "Harbour Logistics Ltd",
             "珠海市格林纸业有限公司", "肇庆市鸿运化工有限公司"]
ONE_OFF = ["个体户{}", "零售客户{}", "Walk-in customer {}", "散客{}"]
LANDLORD = "深圳市万达物业管理有限公司"


@dataclass
class Txn:
    date: dt.date
    amount: Decimal  # + in, - out
    counterparty: str
    description: str
    channel: str = "网银"
    planted: str = ""  # what a fake planted this row for ("" = honest)


@dataclass
class Layout:
    name: str
    fields: list[str]            # column order (date, description, counterparty, ...)
    language: str = "zh"
    sign: str = "debit_credit"   # "signed" | "debit_credit" | "direction"
    date_format: str = "%Y-%m-%d"
    preamble: int = 3
    totals: bool = True
    newest_first: bool = False
    fmt: str = "csv"


HEADERS = {
    "zh": {"date": "交易日期", "time": "交易时间", "description": "摘要",
           "counterparty": "对方户名",
           "account": "对方账号", "debit": "支出金额", "credit": "收入金额", "amount": "交易金额",
           "direction": "借贷标志", "balance": "账户余额", "channel": "交易渠道"},
    "en": {"date": "Value Date", "time": "Time", "description": "Narrative",
           "counterparty": "Payee/Payer", "account": "Account No.", "debit": "Withdrawal",
           "credit": "Deposit", "amount": "Amount", "direction": "Dr/Cr",
           "balance": "Running Balance", "channel": "Channel"},
}


def layouts() -> list[Layout]:
    """Twelve layouts; none is one of the seeded column profiles' exact header sets."""
    return [
        Layout("zh-dc", ["date", "time", "description", "counterparty", "account", "debit",
                         "credit", "balance", "channel"]),
        Layout("zh-dc-reordered", ["date", "counterparty", "credit", "debit", "balance",
                                   "description"], date_format="%Y%m%d"),
        Layout("zh-signed", ["date", "amount", "balance", "counterparty", "description"],
               sign="signed", date_format="%Y/%m/%d", totals=False),
        Layout("zh-direction", ["date", "description", "direction", "amount", "balance",
                                "counterparty"], sign="direction", date_format="%Y年%m月%d日"),
        Layout("zh-newest-first", ["date", "description", "counterparty", "debit", "credit",
                                   "balance"], newest_first=True, preamble=6),
        Layout("zh-xlsx", ["date", "counterparty", "description", "debit", "credit", "balance"],
               fmt="xlsx", preamble=2),
        Layout("en-signed", ["date", "description", "counterparty", "amount", "balance",
                             "channel"], language="en", sign="signed", date_format="%d/%m/%Y"),
        Layout("en-dc", ["date", "counterparty", "description", "debit", "credit", "balance"],
               language="en", date_format="%d.%m.%Y", preamble=0),
        Layout("en-direction", ["date", "description", "amount", "direction", "balance",
                                "counterparty"], language="en", sign="direction",
               date_format="%m/%d/%Y", totals=False),
        Layout("en-xlsx-newest", ["date", "amount", "balance", "description", "counterparty"],
               language="en", sign="signed", newest_first=True, fmt="xlsx"),
        Layout("zh-no-balance", ["date", "description", "counterparty", "debit", "credit"]),
        Layout("en-no-balance", ["date", "counterparty", "amount"], language="en",
               sign="signed", preamble=1),
    ]


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT)


def _day(start: dt.date, rng: random.Random, days: int) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(days))


def honest(seed: int, *, rows: int = 600, end: dt.date = dt.date(2026, 10, 31)) -> list[Txn]:
    """A trading firm's 12 months: declared-looking business, nothing to hide."""
    rng = random.Random(seed)
    start = end - dt.timedelta(days=364)
    customers = rng.sample(CUSTOMERS, 5)
    suppliers = rng.sample(SUPPLIERS, 4)
    txns: list[Txn] = []
    month_starts = [dt.date(start.year + (start.month - 1 + k) // 12,
                            (start.month - 1 + k) % 12 + 1, 1) for k in range(1, 13)]
    rent = _money(rng, 8000, 30000)
    for first in month_starts:
        txns.append(Txn(first + dt.timedelta(days=rng.randint(0, 4)), -rent, LANDLORD,
                        rng.choice(["房租", "租金", "Rent"])))
        txns.append(Txn(first + dt.timedelta(days=rng.randint(9, 12)),
                        -_money(rng, 40000, 90000), "",
                        rng.choice(["代发工资", "工资", "Payroll"])))
        txns.append(Txn(first + dt.timedelta(days=rng.randint(14, 20)),
                        -_money(rng, 1500, 6000), "供电局", "电费"))
        txns.append(Txn(first + dt.timedelta(days=rng.randint(14, 20)),
                        -_money(rng, 3000, 20000), "国家税务总局", "税款"))
    business = max(rows - len(txns), 40)
    for _ in range(business):
        day = _day(start, rng, 365)
        roll = rng.random()
        if roll < 0.45:
            txns.append(Txn(day, _money(rng, 5000, 90000), rng.choice(customers), "货款"))
        elif roll < 0.52:
            txns.append(Txn(day, _money(rng, 500, 20000),
                            rng.choice(ONE_OFF).format(rng.randint(1, 9999)), "货款"))
        elif roll < 0.58:
            txns.append(Txn(day, _money(rng, 500, 12000), "", "现金存入", "柜面"))
        elif roll < 0.60:
            txns.append(Txn(day, -_money(rng, 10, 200), "", "手续费"))
        elif roll < 0.61 and txns:
            paid = [t for t in txns if t.amount < 0 and t.counterparty in suppliers]
            if paid:  # a supplier refunds part of an order: honest, not a round trip
                original = rng.choice(paid)
                txns.append(Txn(original.date + dt.timedelta(days=rng.randint(1, 20)),
                                (-original.amount * Decimal(rng.choice(["0.1", "0.25", "0.5"])))
                                .quantize(CENT), original.counterparty, "退款"))
        else:
            txns.append(Txn(day, -_money(rng, 3000, 80000), rng.choice(suppliers), "采购付款"))
    return sorted((t for t in txns if start <= t.date <= end), key=lambda t: t.date)


# --- fakes ---------------------------------------------------------------------------------

def plant_round_trips(txns: list[Txn], seed: int, route: str, *, cycles: int = 3) -> list[Txn]:
    """`route`: "split" (back from a related company in 2-3 parts), "lagged" (back whole from
    the same counterparty 4-7 days later), "chained" (back through a conduit that does nothing
    else), "inflow" (money in from a 'customer', sent back to its affiliate days later)."""
    rng = random.Random(seed * 7919 + sum(map(ord, route)))
    end = max(t.date for t in txns)
    out = list(txns)
    partner = rng.choice(["深圳市华达贸易有限公司", "东莞市恒源实业有限公司",
                          "Orient Star Trading Ltd"])
    related = {"深圳市华达贸易有限公司": "华达贸易(香港)有限公司",
               "东莞市恒源实业有限公司": "广州市恒源实业发展有限公司",
               "Orient Star Trading Ltd": "Orient Star Holdings Ltd"}[partner]
    conduit = rng.choice(["王建国", "李某某咨询服务部", "Silverline Consulting"])
    for k in range(cycles):
        day = end - dt.timedelta(days=30 + k * rng.randint(40, 90))
        amount = _money(rng, 150000, 600000)
        fee = Decimal(rng.choice(["0", "0.002", "0.005", "0.01"]))
        back = (amount * (1 - fee)).quantize(CENT)
        lag = rng.randint(1, 3) if route in {"split", "chained"} else rng.randint(4, 7)
        if route == "inflow":
            out.append(Txn(day, amount, partner, "货款", planted=route))
            out.append(Txn(day + dt.timedelta(days=lag), -back, related, "往来款", planted=route))
            continue
        out.append(Txn(day, -amount, partner, "采购付款", planted=route))
        if route == "split":
            parts = rng.randint(2, 3)
            cuts = sorted(rng.sample(range(1, 100), parts - 1))
            shares = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=False)]
            pieces = [(back * s / 100).quantize(CENT) for s in shares]
            pieces[-1] += back - sum(pieces)
            for i, piece in enumerate(pieces):
                out.append(Txn(day + dt.timedelta(days=min(lag + i, 7)), piece, related, "货款",
                               planted=route))
        elif route == "chained":
            out.append(Txn(day + dt.timedelta(days=lag), back, conduit, "往来款", planted=route))
        else:
            out.append(Txn(day + dt.timedelta(days=lag), back, partner, "退款", planted=route))
    return sorted(out, key=lambda t: t.date)


CONTROLLER = "刘振华"  # the borrower's actual controller in the party graph
GRAPH_OUT = "佛山市南海区宏图物流有限公司"  # a related enterprise (same controller)
GRAPH_BACK = "中山市安达电子有限公司"  # a sibling firm that is also a regular customer


def graph_related(txns: list[Txn], seed: int) -> list[str]:
    """What the party graph relates to an honest borrower: its controller, and one of its
    customers and one of its suppliers that are group firms trading with it normally."""
    rng = random.Random(seed * 613)
    customers = sorted({t.counterparty for t in txns if t.amount > 0 and t.description == "货款"
                        and t.counterparty in CUSTOMERS})
    suppliers = sorted({t.counterparty for t in txns if t.counterparty in SUPPLIERS})
    return [CONTROLLER, *rng.sample(customers, min(1, len(customers))),
            *rng.sample(suppliers, min(1, len(suppliers)))]


def plant_graph_round_trips(txns: list[Txn], seed: int, *, cycles: int = 3) -> list[Txn]:
    """Money sent to a related enterprise comes back, split in two, from a sibling firm that
    is also a regular customer, or from the controller, 1-5 days later: names share nothing,
    and the sibling pays too often to pass for a conduit, so only the party graph relates
    them."""
    rng = random.Random(seed * 3571)
    end = max(t.date for t in txns)
    start = min(t.date for t in txns)
    out = list(txns)
    for _ in range(30):  # the sibling firm buys from the borrower all year
        out.append(Txn(start + dt.timedelta(days=rng.randrange((end - start).days)),
                       _money(rng, 5000, 60000), GRAPH_BACK, "货款"))
    for k in range(cycles):
        day = end - dt.timedelta(days=30 + k * rng.randint(40, 90))
        amount = _money(rng, 150000, 600000)
        out.append(Txn(day, -amount, GRAPH_OUT, "运费", planted="graph"))
        back_from = GRAPH_BACK if k % 2 == 0 else CONTROLLER
        first = (amount * Decimal(rng.randint(30, 70)) / 100).quantize(CENT)
        lag = rng.randint(1, 4)
        out.append(Txn(day + dt.timedelta(days=lag), first, back_from, "货款", planted="graph"))
        out.append(Txn(day + dt.timedelta(days=lag + 1), amount - first, back_from, "往来款",
                       planted="graph"))
    return sorted(out, key=lambda t: t.date)


def plant_hidden_loan(txns: list[Txn], seed: int, *, months: int = 8) -> list[Txn]:
    """Equal monthly instalments to a private lender or a small-loan company, as a transfer."""
    rng = random.Random(seed * 104729)
    end = max(t.date for t in txns)
    lender = rng.choice(["张伟", "深圳市快易小额贷款有限公司", "陈丽华", "Quickcash Finance Ltd"])
    instalment = _money(rng, 4000, 40000)
    day = end - dt.timedelta(days=30 * months + rng.randint(0, 10))
    out = list(txns)
    for _ in range(months):
        out.append(Txn(day, -instalment, lender, rng.choice(["转账", "往来款", "Transfer"]),
                       planted="loan"))
        day += dt.timedelta(days=rng.randint(28, 33))
    return sorted(out, key=lambda t: t.date)


def plant_cash(txns: list[Txn], seed: int, *, deposits: int = 6) -> list[Txn]:
    """Cash deposits kept just under the CNY 50,000 large-cash amount."""
    rng = random.Random(seed * 15485863)
    end = max(t.date for t in txns)
    out = list(txns)
    for _ in range(deposits):
        out.append(Txn(end - dt.timedelta(days=rng.randint(1, 330)), _money(rng, 46000, 49900),
                       "", "现金存入", "柜面", planted="cash"))
    return sorted(out, key=lambda t: t.date)


def plant_cash_heavy(txns: list[Txn], seed: int, *, share: float = 0.6) -> list[Txn]:
    """Sales that arrive as untraceable cash: small deposits adding `share` of what came in
    by transfer, spread over the year."""
    rng = random.Random(seed * 7727)
    end = max(t.date for t in txns)
    target = sum((t.amount for t in txns if t.amount > 0), Decimal(0)) * Decimal(str(share))
    out, added = list(txns), Decimal(0)
    while added < target:
        amount = _money(rng, 3000, 30000)
        out.append(Txn(end - dt.timedelta(days=rng.randint(1, 360)), amount, "", "现金存入",
                       "柜面", planted="cash-heavy"))
        added += amount
    return sorted(out, key=lambda t: t.date)


def edit_amounts(txns: list[Txn], seed: int, *, edits: int = 3) -> list[tuple[int, Decimal]]:
    """Rows whose amount a forger inflates after the export (the balance column untouched):
    [(row index, new amount)], applied by `render`."""
    rng = random.Random(seed * 31)
    inflows = [i for i, t in enumerate(txns) if t.amount > 0]
    return [(i, (txns[i].amount * Decimal("1.8")).quantize(CENT))
            for i in rng.sample(inflows, min(edits, len(inflows)))]


# --- rendering -------------------------------------------------------------------------------

def _cells(t: Txn, amount: Decimal, balance: Decimal, layout: Layout, i: int) -> list:
    values = {"date": t.date.strftime(layout.date_format) if layout.fmt == "csv" or i % 2 else
              t.date.strftime(layout.date_format),
              "time": f"{8 + i % 10:02d}:{i % 60:02d}:00", "description": t.description,
              "counterparty": t.counterparty,
              "account": f"62{sum(map(ord, t.counterparty)) % 10**12:012d}"
              if t.counterparty else "", "channel": t.channel,
              "debit": f"{-amount:,.2f}" if amount < 0 else "",
              "credit": f"{amount:,.2f}" if amount > 0 else "",
              "amount": f"{amount:.2f}" if layout.sign == "signed" else f"{abs(amount):.2f}",
              "direction": ("贷" if amount > 0 else "借") if layout.language == "zh" else
              ("CR" if amount > 0 else "DR"),
              "balance": f"{balance:,.2f}"}
    return [values[f] for f in layout.fields]


def render(txns: list[Txn], layout: Layout, *, opening: Decimal = Decimal("250000.00"),
           edits: list[tuple[int, Decimal]] = ()) -> bytes:
    header = [HEADERS[layout.language][f] for f in layout.fields]
    edited = dict(edits)
    body, balance = [], opening
    for i, t in enumerate(txns):
        balance += t.amount
        body.append(_cells(t, edited.get(i, t.amount), balance, layout, i))
    if layout.newest_first:
        body.reverse()
    preamble = [["账户交易明细" if layout.language == "zh" else "Account statement"],
                ["账号:" if layout.language == "zh" else "Account:", "6222 0212 3456 7890"],
                ["户名:" if layout.language == "zh" else "Name:", "示例贸易有限公司"],
                ["查询期间:" if layout.language == "zh" else "Period:",
                 f"{txns[0].date} - {txns[-1].date}"],
                ["币种:" if layout.language == "zh" else "Currency:", "CNY"],
                []][:layout.preamble]
    total_in = sum((t.amount for t in txns if t.amount > 0), Decimal(0))
    rows = [*preamble, header, *body]
    if layout.totals:
        rows.append(["合计" if layout.language == "zh" else "Total", "", f"{total_in:,.2f}"])
    if layout.fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8" if layout.language == "en" else "gb18030")


@dataclass
class Generated:
    data: bytes
    fmt: str
    layout: Layout
    txns: list[Txn]
    planted: str = ""
    edits: list = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # the party graph's names

    @property
    def total_in(self) -> Decimal:
        return sum((t.amount for t in self.txns if t.amount > 0), Decimal(0))


def statement(seed: int, *, fake: str = "", rows: int = 600,
              layout: Layout | None = None) -> Generated:
    """One statement; `fake` in "", split, lagged, chained, inflow, graph, loan, cash,
    cash-heavy, edited. `related`: what the party graph relates to the borrower (its
    controller and two group firms it trades with honestly; for "graph" also the firms the
    round trips go through)."""
    rng = random.Random(seed)
    layout = layout or rng.choice(layouts())
    txns = honest(seed, rows=rows)
    edits: list = []
    if fake in {"split", "lagged", "chained", "inflow"}:
        txns = plant_round_trips(txns, seed, fake)
    elif fake == "loan":
        txns = plant_hidden_loan(txns, seed)
    elif fake == "cash":
        txns = plant_cash(txns, seed)
    elif fake == "cash-heavy":
        txns = plant_cash_heavy(txns, seed)
    elif fake == "edited":
        edits = edit_amounts(txns, seed)
    related = graph_related(txns, seed)
    if fake == "graph":
        txns = plant_graph_round_trips(txns, seed)
        related += [GRAPH_OUT, GRAPH_BACK]
    return Generated(render(txns, layout, edits=edits), layout.fmt, layout, txns, fake, edits,
                     related)


# --- tax and utility records ----------------------------------------------------------------

@dataclass
class SeriesLayout:
    """A tax bureau's or a utility's export: which columns, named how, in what order."""

    name: str
    kind: str                       # "tax_record" | "utility_bill"
    columns: list[tuple[str, str]]  # (field, header text); fields the reader does not map
    period_format: str = "%Y-%m"    # are notes, tax type, rate, account, unit price
    preamble: int = 1
    totals: bool = False
    newest_first: bool = False
    fmt: str = "csv"
    named: bool = True              # every mapped column named by a lexicon header

    @property
    def header(self) -> list[str]:
        return [h for _f, h in self.columns]


TAX_SERIES_LAYOUTS = [
    SeriesLayout("tax-zh-vat", "tax_record",
                 [("period", "所属期"), ("revenue", "应税销售额"), ("tax_paid", "实缴税额")],
                 totals=True),
    SeriesLayout("tax-zh-reordered", "tax_record",
                 [("period", "申报期"), ("tax_paid", "已缴税额"), ("revenue", "营业收入")],
                 period_format="%Y年%m月"),
    SeriesLayout("tax-en", "tax_record",
                 [("period", "Tax period"), ("revenue", "Taxable sales"),
                  ("tax_paid", "Tax paid")], totals=True),
    SeriesLayout("tax-en-vat", "tax_record",
                 [("period", "Month"), ("revenue", "Revenue"), ("tax_paid", "VAT")],
                 period_format="%Y%m"),
    SeriesLayout("tax-zh-notes", "tax_record",
                 [("period", "月份"), ("revenue", "收入"), ("tax_paid", "缴纳税额"),
                  ("note", "备注")], period_format="%Y/%m", totals=True),
    SeriesLayout("tax-zh-etax-xlsx", "tax_record",
                 [("tax_type", "征收项目"), ("period", "税款所属期起"), ("revenue", "计税依据"),
                  ("rate", "税率"), ("tax_paid", "实缴金额(元)"), ("note", "入库日期")],
                 preamble=4, totals=True, fmt="xlsx"),
    SeriesLayout("tax-en-newest", "tax_record",
                 [("period", "Period ending"), ("tax_paid", "Tax remitted"),
                  ("revenue", "Gross receipts")], period_format="%Y-%m-%d", preamble=3,
                 newest_first=True, named=False),
]
UTILITY_SERIES_LAYOUTS = [
    SeriesLayout("utility-zh-meter", "utility_bill",
                 [("period", "账期"), ("account", "户号"), ("reading_start", "起码"),
                  ("reading_end", "止码"), ("kwh", "用电量(kWh)"), ("price", "电价"),
                  ("cost", "电费(元)")], preamble=2, totals=True),
    SeriesLayout("utility-zh-meter-reversed", "utility_bill",
                 [("period", "抄表月份"), ("reading_end", "本月示数"),
                  ("reading_start", "上月示数"), ("kwh", "抄见电量"), ("cost", "应缴金额")],
                 period_format="%Y年%m月"),
    SeriesLayout("utility-en", "utility_bill",
                 [("period", "Billing period"), ("kwh", "Usage (kWh)"),
                  ("cost", "Amount due")], totals=True),
    SeriesLayout("utility-en-xlsx-newest", "utility_bill",
                 [("period", "Month"), ("reading_start", "Previous reading"),
                  ("reading_end", "Current reading"), ("kwh", "Units"), ("cost", "Charges")],
                 preamble=3, newest_first=True, fmt="xlsx"),
    SeriesLayout("utility-zh-water", "utility_bill",
                 [("period", "月份"), ("kwh", "用水量(吨)"), ("cost", "水费")],
                 period_format="%Y/%m"),
    SeriesLayout("utility-en-notes", "utility_bill",
                 [("period", "Period"), ("kwh", "Consumption"), ("cost", "Cost"),
                  ("note", "Notes")], period_format="%Y%m", preamble=0),
    SeriesLayout("utility-zh-unnamed", "utility_bill",
                 [("period", "期间"), ("kwh", "数量"), ("cost", "应付金额")], named=False),
]
SERIES_LAYOUTS = TAX_SERIES_LAYOUTS + UTILITY_SERIES_LAYOUTS


@dataclass
class SeriesGenerated:
    data: bytes
    fmt: str
    layout: SeriesLayout
    monthly: dict[str, dict[str, Decimal]]  # "YYYY-MM" -> field -> value
    edited: bool = False

    def last_12(self, field_name: str) -> Decimal:
        months = sorted(self.monthly)[-12:]
        return sum((self.monthly[m][field_name] for m in months), Decimal(0))


def _month_of(first: dt.date, k: int) -> dt.date:
    return dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1)


def series_record(seed: int, layout: SeriesLayout | None = None, *, months: int = 24,
                  edit: bool | str = False, regime: str = "small") -> SeriesGenerated:
    """One tax or utility record. Tax: a small-scale taxpayer's VAT at a 1%, 3% or 6% levy
    rate of monthly sales, or (`regime="general"`) a general taxpayer's output tax at 13% less
    input tax, which follows no rate (no rate column then); a totals row, where the layout has
    one, carries the sums. Utility: a meter read monthly, a tariff that moves by season
    (summer and winter peaks, within 10%). `edit`: usage (utility) or revenue (tax) inflated on
    three months after the export, the meter readings or the tax left as they were;
    `edit="revenue_and_tax"` (tax records): revenue and tax both inflated, at the rate, and
    the totals row left as exported."""
    rng = random.Random(seed)
    layout = layout or rng.choice(SERIES_LAYOUTS)
    first = dt.date(2024, 11, 1)
    rate = Decimal(rng.choice(["0.01", "0.03", "0.06"]))
    tariff = Decimal(rng.choice(["0.62", "0.85", "1.05"])) if "water" not in layout.name \
        else Decimal(rng.choice(["3.45", "4.10", "5.20"]))
    reading = Decimal(rng.randint(10000, 900000))
    edited_months = set(rng.sample(range(months), 3)) if edit else set()
    monthly: dict[str, dict[str, Decimal]] = {}
    totals = {"revenue": Decimal(0), "tax_paid": Decimal(0)}
    body = []
    for k in range(months):
        month = _month_of(first, k)
        key = f"{month.year:04d}-{month.month:02d}"
        cells = {"period": month.strftime(layout.period_format), "note": "", "tax_type": "增值税",
                 "account": "0301234567", "rate": f"{rate:.0%}"}
        if layout.kind == "tax_record":
            revenue = _money(rng, 150000, 450000)
            tax = (revenue * rate).quantize(CENT)
            if regime == "general":  # output VAT at 13% less 55-95% of it as input VAT
                output = revenue * Decimal("0.13")
                tax = (output * (1 - Decimal(rng.randint(55, 95)) / 100)).quantize(CENT)
                cells["rate"] = ""
            shown, shown_tax = revenue, tax
            if k in edited_months:
                shown = (revenue * Decimal("1.6")).quantize(CENT)
                if edit == "revenue_and_tax":
                    shown_tax = (tax * Decimal("1.6")).quantize(CENT)
            monthly[key] = {"revenue": revenue, "tax_paid": tax}
            totals["revenue"] += revenue if edit == "revenue_and_tax" else shown
            totals["tax_paid"] += tax if edit == "revenue_and_tax" else shown_tax
            cells.update(revenue=f"{shown:.2f}", tax_paid=f"{shown_tax:.2f}")
            if layout.period_format == "%Y-%m-%d":  # period ending: the month's last day
                cells["period"] = (_month_of(first, k + 1) - dt.timedelta(days=1)).strftime(
                    layout.period_format)
        else:
            usage = Decimal(rng.randint(800, 30000))
            season = Decimal("1.08") if month.month in (7, 8, 12, 1) else Decimal("1")
            price = (tariff * season).quantize(Decimal("0.0001"))
            cost = (usage * price).quantize(CENT)
            shown = (usage * Decimal("1.5")).quantize(Decimal("1")) if k in edited_months \
                else usage
            monthly[key] = {"kwh": usage, "cost": cost}
            cells.update(reading_start=f"{reading:.0f}", reading_end=f"{reading + usage:.0f}",
                         kwh=f"{shown:.0f}", price=f"{price}", cost=f"{cost:.2f}")
            reading += usage
        body.append([cells[f] for f, _h in layout.columns])
    if layout.newest_first:
        body.reverse()
    preamble = [["纳税人识别号:", "91440300MA5XXXXXX"], ["纳税人名称:", "示例贸易有限公司"],
                ["查询期间:", "2024-11 - 2026-10"], ["打印日期:", "2026-11-20"]][:layout.preamble]
    rows = [*preamble, *([layout.header] if any(layout.header) else []), *body]
    if layout.totals:  # a tax record's totals row carries the sums (utilities' stays blank)
        sums = {f: f"{v:.2f}" for f, v in totals.items()} if layout.kind == "tax_record" else {}
        rows.append(["合计", *[sums.get(f, "") for f, _h in layout.columns[1:]]])
    if layout.fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return SeriesGenerated(out.getvalue(), "xlsx", layout, monthly, edit)
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SeriesGenerated(text.getvalue().encode("gb18030"), "csv", layout, monthly, edit)


TAX_LAYOUTS = TAX_SERIES_LAYOUTS  # the earlier name


def tax_record(seed: int, *, months: int = 24) -> tuple[bytes, list, Decimal]:
    """(CSV bytes, header, true revenue of the last 12 months) in one of the first five tax
    layouts (one preamble line, a header)."""
    layout = TAX_SERIES_LAYOUTS[seed % 5]
    generated = series_record(seed, layout, months=months)
    return generated.data, layout.header, generated.last_12("revenue")
