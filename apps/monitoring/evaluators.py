"""Pure evaluators of the signal rules Credence has data for (§4.3). Each takes the
observations and a `Policy`, and returns an `Observation` (level 0: not triggered).

Series are {"YYYY-MM": Decimal} as the documents app parses them from tax records, utility
records and bank statements (`DocumentCheck.findings["monthly"]`). Thresholds are read from
policy by key; nothing here is a number about credit risk.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from apps.monitoring.policy import K, Policy

ZERO = Decimal("0")


@dataclass
class Observation:
    code: str
    level: int
    observed: str = ""
    baseline: str = ""
    details: dict = field(default_factory=dict)


def _months_back(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def w01_overdue(dpd: int, policy: Policy) -> Observation:
    """W01: principal or interest past due; level by DPD band (L1/L2/L3 from policy)."""
    level = 0
    for lvl, key in ((1, K.W01_L1), (2, K.W01_L2), (3, K.W01_L3)):
        if dpd >= policy.integer(key):
            level = lvl
    return Observation("W01", level, observed=str(dpd), baseline="0",
                       details={"dpd": dpd})


def w03_revenue_decline(revenue: dict[str, Decimal], policy: Policy) -> Observation:
    """W03: main revenue down N months in a row (主营业务收入连续三个月下降 [V]): each of the
    last N months below the month before it, months consecutive."""
    n = policy.integer(K.W03_MONTHS_DOWN)
    if not revenue:
        return Observation("W03", 0)
    last = max(revenue)
    months = [_months_back(last, i) for i in range(n, -1, -1)]
    if any(m not in revenue for m in months):
        return Observation("W03", 0, details={"reason": "months missing"})
    values = [revenue[m] for m in months]
    down = all(b < a for a, b in zip(values, values[1:], strict=False))
    return Observation("W03", 2 if down else 0, observed=str(values[-1]), baseline=str(values[0]),
                       details={"months": months, "values": [str(v) for v in values]})


def _yoy_drop(code: str, series: dict[str, Decimal], window_key: str, drop_key: str,
              policy: Policy) -> Observation:
    """Sum of the last W months against the same W months a year earlier."""
    window = policy.integer(window_key)
    drop_limit = policy.value(drop_key)
    if not series:
        return Observation(code, 0)
    last = max(series)
    recent = [_months_back(last, i) for i in range(window)]
    prior = [_months_back(m, 12) for m in recent]
    if any(m not in series for m in recent + prior):
        return Observation(code, 0, details={"reason": "months missing"})
    now, before = sum(series[m] for m in recent), sum(series[m] for m in prior)
    if before <= 0:
        return Observation(code, 0, details={"reason": "no baseline"})
    drop = ((before - now) / before).quantize(Decimal("0.0001"))
    return Observation(code, 2 if drop > drop_limit else 0, observed=str(now),
                       baseline=str(before),
                       details={"drop_ratio": str(drop), "months": sorted(recent)})


def w07_tax_drop(tax_paid: dict[str, Decimal], policy: Policy) -> Observation:
    """W07: tax paid over the window fell more than the policy ratio, year on year."""
    return _yoy_drop("W07", tax_paid, K.W07_WINDOW, K.W07_DROP, policy)


def w08_utility_drop(kwh: dict[str, Decimal], policy: Policy) -> Observation:
    """W08: electricity use over the window fell more than the policy ratio, year on year."""
    return _yoy_drop("W08", kwh, K.W08_WINDOW, K.W08_DROP, policy)


def w09_inflows_fall(inflows: dict[str, Decimal], *, loan_month: str,
                     policy: Policy) -> Observation:
    """W09: average monthly inflow of the last W months (after the loan) below the policy
    share of the average monthly inflow before the loan (the pre-loan baseline)."""
    window = policy.integer(K.W09_WINDOW)
    ratio_limit = policy.value(K.W09_RATIO_LT)
    before = [v for m, v in inflows.items() if m < loan_month]
    after_months = sorted(m for m in inflows if m > loan_month)
    if not before or len(after_months) < window:
        return Observation("W09", 0, details={"reason": "months missing"})
    recent = after_months[-window:]
    baseline = sum(before, ZERO) / len(before)
    observed = sum((inflows[m] for m in recent), ZERO) / window
    if baseline <= 0:
        return Observation("W09", 0, details={"reason": "no baseline"})
    share = (observed / baseline).quantize(Decimal("0.0001"))
    return Observation("W09", 2 if share < ratio_limit else 0,
                       observed=str(observed.quantize(Decimal("0.01"))),
                       baseline=str(baseline.quantize(Decimal("0.01"))),
                       details={"share": str(share), "months": recent})


def w23_score_drop(*, at_decision: float | None, latest: float | None,
                   policy: Policy) -> Observation:
    """Score deterioration: the latest re-score is at least the policy's points below the
    score the loan was approved on."""
    if at_decision is None or latest is None:
        return Observation("W23", 0)
    drop = Decimal(str(at_decision)) - Decimal(str(latest))
    triggered = drop >= policy.value(K.SCORE_DROP)
    return Observation("W23", 2 if triggered else 0, observed=f"{latest:.0f}",
                       baseline=f"{at_decision:.0f}", details={"drop_points": str(drop)})
