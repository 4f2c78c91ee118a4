"""A synthetic SME loan book with exactly the feature names of the pipeline (features/spec.py),
so the shipped default model is trained on the same characteristics an application is scored on.

**This data is invented.** No row describes a real enterprise, and the relations below are
assumptions chosen to resemble the direction of published findings (domain reference §7.1:
Altman & Sabato 2007; Altman, Sabato & Wilson 2010; China-specific alternative data), not
estimates from any loan book. Do not use a model trained on it for real decisions, and do not
read its coefficients as evidence about real borrowers.

One row per loan, observed at decision time; `default` is 1 when the loan reached ≥ 90 days
past due within 12 months (§7.1 default definition). Assumed effects on the log-odds of default,
all other things equal (a "missing" value adds +0.3 wherever it is generated: unverifiable
information is usually adverse):

| Feature | Distribution | Assumed relation | Missing |
|---|---|---|---|
| firm_age_years | gamma(2, 3) + 0.5 | −0.12 per year, to 10 years | — |
| size_class | micro 45%, small 40%, medium 15% | micro +0.2 | — |
| industry | GB/T 4754 letters C, F, O, H, E, A | H (catering), E (building) +0.4, A +0.2 | — |
| annual_revenue_10k | lognormal(6, 1.1) | −0.25 per ln unit | — |
| tax_rating | A/B/M/C/D | C +0.8, D +1.5, M +0.4 | 3% |
| premises_owned | yes 35% | owned −0.35 | 4% |
| loan_to_revenue | 0.02–0.8 | +1.0 per unit | — |
| debt_to_assets | beta ×1.3 | +3.0 per unit: strongest driver | 6% |
| instalment_to_free_cf | gamma, mean 0.4 | +1.2 per unit | 6% |
| gross_margin | N(0.25, 0.1) | −2.0 per unit | 6% |
| inventory_days | gamma, mean 60 | +0.004 per day | 10% |
| controller_experience_years | N(9, 5) | −0.05 per year | 40% (template lacks A7) |
| m1_count_24m | Poisson(0.4) | +0.45 each | — |
| inquiries_6m | Poisson(2) | +0.12 each | — |
| card_utilisation_pct | uniform 0–100 | +0.01 per point | 10% |
| spouse_consent | consents 85%, unaware 10%, refuses 5% | unaware +0.5, refuses +1.0 | 8% |
| site_status | normal 92%, partial 6%, stopped, staged 1% each | partial +0.8, else +2.0 | — |
| top_customer_share_pct | uniform 5–90 | +0.01 per point above 30 | — |
| utility_trend_pct | N(3, 15) | −0.015 per point | 8% |
| tax_paid_trend_pct | N(2, 20) | −0.01 per point | 10% |
| statement_source | in_house, e_statement, paper, screenshot | screenshot +0.6 | — |
| revenue_deviation | abs N(0, 0.18) | +3.0 per unit | 15% |
| bank_inflow_to_sales | N(0.9, 0.25) | below 0.5: +0.8 | 30% (no parsed statements) |
| bank_top_counterparty_share | beta(2, 5) | +1.0 per unit | 30% |
| bank_round_trip_share | beta(1, 20) | +3.0 per unit | 30% |
| red_flags_r3 | Poisson(0.05) | +1.5 each | — |
| red_flags_r2 | Poisson(0.5) | +0.4 each | — |
| cross_check_breaches | Poisson(0.3) | +0.3 each | — |
| group_exposure_to_revenue | lognormal | +0.5 per unit | — |

The intercept gives a bad rate of roughly 8–14%. Same seed, same rows.
"""

import csv
from pathlib import Path

import numpy as np

from apps.scoring.features.spec import FEATURE_NAMES

TARGET = "default"
COLUMNS = [*FEATURE_NAMES, TARGET]
INDUSTRIES = {"C": 0.0, "F": 0.0, "O": 0.0, "H": 0.4, "E": 0.4, "A": 0.2}
TAX_RATINGS = {"A": 0.0, "B": 0.0, "C": 0.8, "D": 1.5, "M": 0.4}
MISSING_PENALTY = 0.3
INTERCEPT = -8.2


def _missing(rng, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def generate_rows(n: int, seed: int = 0) -> list[dict]:
    """`n` synthetic loans as CSV-ready text cells (the module docstring lists every relation)."""
    if n < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    pick = rng.choice
    age = np.round(rng.gamma(2.0, 3.0, n) + 0.5, 1)
    size = pick(["micro", "small", "medium"], n, p=[0.45, 0.40, 0.15])
    industry = pick(list(INDUSTRIES), n, p=[0.25, 0.25, 0.2, 0.12, 0.1, 0.08])
    revenue = np.round(np.exp(rng.normal(6.0, 1.1, n)), 1)
    tax = pick(list(TAX_RATINGS), n, p=[0.3, 0.35, 0.1, 0.18, 0.07])
    owned = rng.random(n) < 0.35
    loan_rev = np.round(np.clip(rng.gamma(2.0, 0.1, n), 0.02, 0.8), 3)
    dta = np.round(np.clip(rng.beta(2.2, 3.0, n) * 1.3, 0.02, 1.4), 3)
    dscr = np.round(rng.gamma(2.0, 0.2, n), 3)
    margin = np.round(np.clip(rng.normal(0.25, 0.1, n), -0.3, 0.8), 3)
    inventory = np.round(rng.gamma(3.0, 20.0, n), 0)
    experience = np.round(np.clip(rng.normal(9, 5, n), 0, 40), 0)
    m1 = rng.poisson(0.4, n)
    inquiries = rng.poisson(2.0, n)
    card = np.round(rng.uniform(0, 100, n), 0)
    spouse = pick(["consents", "unaware", "refuses"], n, p=[0.85, 0.10, 0.05])
    site = pick(["normal", "partial", "stopped", "staged"], n, p=[0.92, 0.06, 0.01, 0.01])
    top_customer = np.round(rng.uniform(5, 90, n), 0)
    utility = np.round(rng.normal(3, 15, n), 1)
    tax_trend = np.round(rng.normal(2, 20, n), 1)
    source = pick(["in_house", "e_statement", "paper", "screenshot"], n, p=[0.2, 0.4, 0.3, 0.1])
    deviation = np.round(np.abs(rng.normal(0, 0.18, n)), 3)
    inflow = np.round(np.clip(rng.normal(0.9, 0.25, n), 0.05, 2.0), 3)
    top_cp = np.round(rng.beta(2, 5, n), 3)
    round_trip = np.round(rng.beta(1, 20, n), 3)
    r3, r2, xc = rng.poisson(0.05, n), rng.poisson(0.5, n), rng.poisson(0.3, n)
    exposure = np.round(np.clip(rng.lognormal(-1.5, 0.8, n), 0, 5), 3)

    miss = {name: _missing(rng, n, share) for name, share in (
        ("tax_rating", 0.03), ("premises_owned", 0.04), ("debt_to_assets", 0.06),
        ("instalment_to_free_cf", 0.06), ("gross_margin", 0.06), ("inventory_days", 0.10),
        ("controller_experience_years", 0.40), ("card_utilisation_pct", 0.10),
        ("spouse_consent", 0.08), ("utility_trend_pct", 0.08), ("tax_paid_trend_pct", 0.10),
        ("revenue_deviation", 0.15))}
    no_statements = _missing(rng, n, 0.30)  # one cause for all three bank-flow figures
    for name in ("bank_inflow_to_sales", "bank_top_counterparty_share", "bank_round_trip_share"):
        miss[name] = no_statements

    def term(name, effect):
        return np.where(miss[name], MISSING_PENALTY, effect)

    logit = (INTERCEPT - 0.12 * np.minimum(age, 10) + 0.2 * (size == "micro")
             + np.array([INDUSTRIES[i] for i in industry]) - 0.25 * (np.log(revenue) - 6.0)
             + term("tax_rating", [TAX_RATINGS[t] for t in tax])
             + term("premises_owned", -0.35 * owned) + 1.0 * loan_rev
             + term("debt_to_assets", 3.0 * dta) + term("instalment_to_free_cf", 1.2 * dscr)
             + term("gross_margin", -2.0 * (margin - 0.25))
             + term("inventory_days", 0.004 * inventory)
             + term("controller_experience_years", -0.05 * (experience - 9))
             + 0.45 * m1 + 0.12 * inquiries + term("card_utilisation_pct", 0.01 * card)
             + term("spouse_consent", np.select([spouse == "unaware", spouse == "refuses"],
                                                [0.5, 1.0], 0.0))
             + np.select([site == "partial", np.isin(site, ["stopped", "staged"])], [0.8, 2.0],
                         0.0)
             + 0.01 * np.maximum(top_customer - 30, 0)
             + term("utility_trend_pct", -0.015 * (utility - 3))
             + term("tax_paid_trend_pct", -0.01 * (tax_trend - 2)) + 0.6 * (source == "screenshot")
             + term("revenue_deviation", 3.0 * deviation)
             + term("bank_inflow_to_sales", 0.8 * (inflow < 0.5))
             + term("bank_top_counterparty_share", 1.0 * top_cp)
             + term("bank_round_trip_share", 3.0 * round_trip)
             + 1.5 * r3 + 0.4 * r2 + 0.3 * xc + 0.5 * exposure)
    default = rng.random(n) < 1 / (1 + np.exp(-logit))

    cells = {
        "firm_age_years": [f"{v:.1f}" for v in age], "size_class": size.tolist(),
        "industry": industry.tolist(), "annual_revenue_10k": [f"{v:.1f}" for v in revenue],
        "tax_rating": tax.tolist(), "premises_owned": ["yes" if o else "no" for o in owned],
        "loan_to_revenue": [f"{v:.3f}" for v in loan_rev],
        "debt_to_assets": [f"{v:.3f}" for v in dta],
        "instalment_to_free_cf": [f"{v:.3f}" for v in dscr],
        "gross_margin": [f"{v:.3f}" for v in margin],
        "inventory_days": [f"{v:.0f}" for v in inventory],
        "controller_experience_years": [f"{v:.0f}" for v in experience],
        "m1_count_24m": [str(v) for v in m1], "inquiries_6m": [str(v) for v in inquiries],
        "card_utilisation_pct": [f"{v:.0f}" for v in card], "spouse_consent": spouse.tolist(),
        "site_status": site.tolist(), "top_customer_share_pct": [f"{v:.0f}" for v in top_customer],
        "utility_trend_pct": [f"{v:.1f}" for v in utility],
        "tax_paid_trend_pct": [f"{v:.1f}" for v in tax_trend],
        "statement_source": source.tolist(), "revenue_deviation": [f"{v:.3f}" for v in deviation],
        "bank_inflow_to_sales": [f"{v:.3f}" for v in inflow],
        "bank_top_counterparty_share": [f"{v:.3f}" for v in top_cp],
        "bank_round_trip_share": [f"{v:.3f}" for v in round_trip],
        "red_flags_r3": [str(v) for v in r3], "red_flags_r2": [str(v) for v in r2],
        "cross_check_breaches": [str(v) for v in xc],
        "group_exposure_to_revenue": [f"{v:.3f}" for v in exposure],
    }
    for name, mask in miss.items():
        cells[name] = ["" if m else v for m, v in zip(mask, cells[name], strict=True)]
    cells[TARGET] = ["1" if d else "0" for d in default]
    return [{name: cells[name][i] for name in COLUMNS} for i in range(n)]


def write_csv(path, n: int, seed: int = 0) -> int:
    """Write `n` synthetic loans to `path`; returns the number of defaults."""
    rows = generate_rows(n, seed)
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return sum(r[TARGET] == "1" for r in rows)
