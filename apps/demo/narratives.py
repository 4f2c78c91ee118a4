"""Varied, enterprise-specific narratives for the demo's honest investigations (issue #18).

Every text answer is built from the enterprise's own facts (name, industry, years trading,
employees, address) with sentence choices drawn from an RNG seeded per file and item, so no two
demo files share the passages the narrative-similarity controls look for. Chinese sentences are
used for items whose label has no English wording.
"""

from __future__ import annotations

import random

from django.utils import timezone

_OPENINGS = [
    "We walked the {where} of {name} with the owner for most of the morning.",
    "On arrival at {name} the gate log showed {n_visitors} deliveries since opening.",
    "{name} runs its {industry} business from {where}; we toured it end to end.",
    "The owner of {name} met us at the door and showed the order book first.",
    "Our visit to {name} began in the stock room, where {n_staff} staff were at work.",
]
_MIDDLES = [
    "A neighbour, {neighbour}, said the firm has traded there for about {years} years.",
    "Supplier {supplier} confirmed monthly orders and payment within {days} days.",
    "Customer {customer} buys roughly {share}% of output and has done so since {since}.",
    "We counted {n_staff} people at work against {employees} on the payroll.",
    "The market committee clerk, {neighbour}, knew the owner and reported no disputes.",
    "Invoices for the last {months} months were on file and matched the ledger we sampled.",
    "Machines ran on {lines} lines; two were idle for scheduled maintenance.",
    "{supplier} delivers raw stock every {days} days, its driver told us at the loading bay.",
    "The owner's accountant walked us through {months} months of VAT filings on her laptop.",
    "Across the street, {neighbour} runs a noodle shop and sees their lorries leave daily.",
    "Shelves held about {share} pallets of finished goods, tagged with this week's dates.",
    "{customer} has a standing order; the purchasing note from {since} was pinned up.",
    "Wages for {employees} staff are paid by transfer on the tenth, per the payroll sheet.",
    "A rival in the same trade, asked by phone, called {name} a careful payer.",
]
_CLOSINGS = [
    "Nothing seen contradicts the figures the borrower declared.",
    "Our impression is of a steady {industry} trade with room for the requested loan.",
    "We ask the reviewer to note the seasonal peak reported by {customer}.",
    "Both officers agree the business is operating normally.",
    "We left at the end of the shift, having seen the whole {industry} cycle.",
    "No sign of stock borrowed for the day or staff hired for the visit.",
]
_ZH_OPENINGS = [
    "我们与{name}负责人一同查看了经营场所，现场有{n_staff}名员工在岗。",
    "到达{name}时，门口登记簿显示当日已有{n_visitors}车次送货。",
    "{name}主营{industry}，我们从仓库到生产区完整走访了一遍。",
]
_ZH_MIDDLES = [
    "邻居{neighbour}表示该企业在此经营约{years}年，口碑良好。",
    "供应商{supplier}确认每月供货，回款周期约{days}天。",
    "客户{customer}约占销售额{share}%，自{since}年起合作至今。",
    "抽查近{months}个月发票，与台账一致。",
]
_ZH_CLOSINGS = [
    "现场所见与借款人申报数据未见矛盾。",
    "两名调查人员一致认为企业经营正常。",
    "请审查人员关注{customer}反映的季节性旺季。",
]
_PEOPLE = ["Wang Li", "Zhang Wei", "Chen Jing", "Liu Yang", "Zhao Min", "Huang Lei", "Zhou Qing",
           "Wu Fang", "Xu Tao", "Sun Hui", "Ma Jun", "Zhu Ling", "Hu Bin", "Guo Ping"]
_FIRMS = ["Hengda Packaging", "Xinyuan Logistics", "Jinhai Metals", "Ruifeng Foods",
          "Tianyi Plastics", "Dongsheng Textiles", "Baolong Hardware", "Meijia Retail",
          "Huaxin Paper", "Longteng Chemicals", "Sanjiang Timber", "Kaiyuan Electric"]


def _facts(enterprise, rng: random.Random) -> dict:
    today = timezone.localdate()
    years = (today.year - enterprise.registration_date.year
             if enterprise.registration_date else rng.randint(4, 15))
    employees = enterprise.employees or rng.randint(5, 60)
    return {
        "name": enterprise.name, "industry": enterprise.get_industry_display(),
        "where": enterprise.operating_address or "premises",
        "years": max(years, 1), "employees": employees,
        "n_staff": max(1, employees - rng.randint(0, max(1, employees // 5))),
        "n_visitors": rng.randint(2, 19), "days": rng.choice([30, 45, 60, 75, 90]),
        "share": rng.randint(8, 38), "since": today.year - rng.randint(2, 9),
        "months": rng.randint(3, 12), "lines": rng.randint(2, 6),
        "neighbour": rng.choice(_PEOPLE), "supplier": rng.choice(_FIRMS),
        "customer": rng.choice(_FIRMS),
    }


def narrative(enterprise, item_code: str, *, chinese: bool, min_length: int = 0,
              seed: int = 0) -> str:
    """A text answer about `enterprise` for item `item_code`, different for every file."""
    # The enterprise by its registration code, not its row id (see `demo_seed`): the same
    # text in every seed, whatever the process wrote before.
    rng = random.Random(f"{seed}:{enterprise.uscc or enterprise.name}:{item_code}")
    facts = _facts(enterprise, rng)
    openings, middles, closings = ((_ZH_OPENINGS, _ZH_MIDDLES, _ZH_CLOSINGS) if chinese
                                   else (_OPENINGS, _MIDDLES, _CLOSINGS))
    sentences = [rng.choice(openings), *rng.sample(middles, k=min(2, len(middles))),
                 rng.choice(closings)]
    text = ("" if chinese else " ").join(s.format(**facts) for s in sentences)
    while len(text) < min_length:
        text += ("" if chinese else " ") + rng.choice(middles).format(**_facts(enterprise, rng))
    return text
