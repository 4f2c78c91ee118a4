"""A synthetic SME loan book, so a fresh install can train and score out of the box.

**This data is invented.** No row describes a real enterprise, and the relations below are
assumptions chosen to resemble the direction of published findings (domain reference §7.1:
Altman & Sabato 2007; Altman, Sabato & Wilson 2010; China-specific alternative data), not
estimates from any loan book. Do not use a model trained on it for real decisions, and do not read
its coefficients as evidence about real borrowers.

One row per loan, observed at decision time; `default` is 1 when the loan reached ≥ 90 days past
due within 12 months (§7.1 default definition). Columns and assumed effects on the log-odds of
default (all other things equal):

| Column | Meaning | Assumed relation |
|---|---|---|
| firm_age_years | years since registration | younger firms default more (−0.12 per year, to 10 y) |
| employees | headcount (MIIT size proxy) | none by itself (a deliberately useless column) |
| annual_revenue_10k | declared revenue, 10,000 CNY | bigger is safer (−0.25 per ln unit) |
| industry | sector | catering and construction +0.4, agriculture +0.2, others 0 |
| premises_owned | yes/no | owning premises −0.35 |
| debt_to_assets | total debt / total assets (IPC) | +3.5 per unit: strongest driver |
| revenue_deviation | abs(declared − bank inflow) / declared revenue | +4.0 per unit |
| tax_rating | 银税互动 tax credit grade A/B/C/D/M (M = new) | C +0.8, D +1.5, M +0.4 vs A/B |
| controller_experience_years | controller's years in trade (soft info) | −0.05 per year |
| utility_trend_pct | year-on-year change in kWh use | −0.015 per percentage point |
| overdue_count_24m | bureau overdue records in 24 months | +0.45 each |
| inquiries_6m | bureau inquiries in 6 months | +0.12 each |

Missing values are generated on purpose (utility trend 8%, controller experience 5%, tax rating
3%) and are themselves mildly adverse (+0.3), as unverifiable information usually is. The
intercept gives a bad rate of roughly 10–12%. Same seed, same rows.
"""

import csv
from pathlib import Path

import numpy as np

COLUMNS = ["firm_age_years", "employees", "annual_revenue_10k", "industry", "premises_owned",
           "debt_to_assets", "revenue_deviation", "tax_rating", "controller_experience_years",
           "utility_trend_pct", "overdue_count_24m", "inquiries_6m", "default"]
INDUSTRIES = {"manufacturing": 0.0, "wholesale_retail": 0.0, "services": 0.0,
              "catering": 0.4, "construction": 0.4, "agriculture": 0.2}
TAX_RATINGS = {"A": 0.0, "B": 0.0, "C": 0.8, "D": 1.5, "M": 0.4}
MISSING_PENALTY = 0.3
INTERCEPT = -5.0


def generate_rows(n: int, seed: int = 0) -> list[dict]:
    """`n` synthetic loans (see the module docstring for every assumed relation)."""
    if n < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    age = np.round(rng.gamma(2.0, 3.0, n) + 0.5, 1)
    employees = rng.integers(1, 300, n)
    revenue = np.round(np.exp(rng.normal(6.0, 1.1, n)), 1)
    industry = rng.choice(list(INDUSTRIES), n, p=[0.25, 0.25, 0.2, 0.12, 0.1, 0.08])
    owned = rng.random(n) < 0.35
    dta = np.round(np.clip(rng.beta(2.2, 3.0, n) * 1.3, 0.02, 1.4), 3)
    deviation = np.round(np.abs(rng.normal(0, 0.18, n)), 3)
    tax = rng.choice(list(TAX_RATINGS), n, p=[0.3, 0.35, 0.18, 0.07, 0.1])
    experience = np.round(np.clip(rng.normal(9, 5, n), 0, 40), 0)
    utility = np.round(rng.normal(3, 15, n), 1)
    overdue = rng.poisson(0.4, n)
    inquiries = rng.poisson(1.5, n)

    miss_utility = rng.random(n) < 0.08
    miss_experience = rng.random(n) < 0.05
    miss_tax = rng.random(n) < 0.03

    logit = (INTERCEPT - 0.12 * np.minimum(age, 10) - 0.25 * (np.log(revenue) - 6.0)
             + np.array([INDUSTRIES[i] for i in industry]) - 0.35 * owned + 3.5 * dta
             + 4.0 * deviation + np.where(miss_tax, MISSING_PENALTY,
                                          [TAX_RATINGS[t] for t in tax])
             + np.where(miss_experience, MISSING_PENALTY, -0.05 * (experience - 9))
             + np.where(miss_utility, MISSING_PENALTY, -0.015 * (utility - 3))
             + 0.45 * overdue + 0.12 * inquiries)
    default = rng.random(n) < 1 / (1 + np.exp(-logit))

    rows = []
    for i in range(n):
        rows.append({
            "firm_age_years": f"{age[i]:.1f}", "employees": str(employees[i]),
            "annual_revenue_10k": f"{revenue[i]:.1f}", "industry": str(industry[i]),
            "premises_owned": "yes" if owned[i] else "no", "debt_to_assets": f"{dta[i]:.3f}",
            "revenue_deviation": f"{deviation[i]:.3f}",
            "tax_rating": "" if miss_tax[i] else str(tax[i]),
            "controller_experience_years": "" if miss_experience[i] else f"{experience[i]:.0f}",
            "utility_trend_pct": "" if miss_utility[i] else f"{utility[i]:.1f}",
            "overdue_count_24m": str(overdue[i]), "inquiries_6m": str(inquiries[i]),
            "default": "1" if default[i] else "0",
        })
    return rows


def write_csv(path, n: int, seed: int = 0) -> int:
    """Write `n` synthetic loans to `path`; returns the number of defaults."""
    rows = generate_rows(n, seed)
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return sum(r["default"] == "1" for r in rows)
