"""Each implemented signal against hand-built series (§4.3)."""

from decimal import Decimal

import pytest

from apps.monitoring import evaluators as ev
from apps.monitoring.policy import Policy
from apps.monitoring.seed import seed_monitoring


@pytest.fixture
def policy(db):
    seed_monitoring()
    return Policy()


def series(start: str, values) -> dict[str, Decimal]:
    year, month = int(start[:4]), int(start[5:])
    out = {}
    for value in values:
        out[f"{year:04d}-{month:02d}"] = Decimal(str(value))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


@pytest.mark.parametrize(("dpd", "level"), [(0, 0), (1, 1), (29, 1), (30, 2), (89, 2),
                                            (90, 3), (400, 3)])
def test_w01_levels_by_dpd_band(policy, dpd, level):
    found = ev.w01_overdue(dpd, policy)
    assert found.level == level and found.observed == str(dpd)
    assert "signal.w01.l3.dpd_gte" in policy.used


def test_w03_three_months_down_in_a_row(policy):
    found = ev.w03_revenue_decline(series("2026-01", [100, 120, 110, 100, 90]), policy)
    assert found.level == 2
    assert (found.observed, found.baseline) == ("90", "120")


def test_w03_not_when_one_month_rises(policy):
    assert ev.w03_revenue_decline(series("2026-01", [100, 120, 110, 115, 90]), policy).level == 0


def test_w03_needs_consecutive_months(policy):
    gap = series("2026-01", [120, 110, 100])
    gap["2026-05"] = Decimal("90")
    assert ev.w03_revenue_decline(gap, policy).level == 0


def test_w07_tax_drop_year_on_year(policy):
    tax = series("2025-01", [10] * 12 + [10, 10, 10, 7, 6, 6])  # last 3: 19 vs 30 → 36.7%
    found = ev.w07_tax_drop(tax, policy)
    assert found.level == 2 and found.details["drop_ratio"] == "0.3667"
    mild = series("2025-01", [10] * 12 + [10, 10, 10, 8, 8, 8])  # 24 vs 30 → 20%
    assert ev.w07_tax_drop(mild, policy).level == 0


def test_w07_without_prior_year_is_silent(policy):
    assert ev.w07_tax_drop(series("2026-01", [10, 5, 1]), policy).level == 0


def test_w08_electricity_drop(policy):
    kwh = series("2025-01", [1000] * 12 + [1000, 1000, 600, 600, 600])
    assert ev.w08_utility_drop(kwh, policy).level == 2
    steady = series("2025-01", [1000] * 17)
    assert ev.w08_utility_drop(steady, policy).level == 0


def test_w09_inflows_below_pre_loan_baseline(policy):
    inflows = series("2025-10", [100, 100, 100, 100, 55, 55, 55])  # loan in 2026-01
    found = ev.w09_inflows_fall(inflows, loan_month="2026-01", policy=policy)
    assert found.level == 2 and found.baseline == "100.00" and found.observed == "55.00"
    ok = series("2025-10", [100, 100, 100, 100, 65, 65, 65])
    assert ev.w09_inflows_fall(ok, loan_month="2026-01", policy=policy).level == 0


def test_w09_needs_post_loan_months(policy):
    inflows = series("2025-10", [100, 100, 100, 100, 10])
    assert ev.w09_inflows_fall(inflows, loan_month="2026-01", policy=policy).level == 0


def test_score_deterioration(policy):
    assert ev.w23_score_drop(at_decision=620.0, latest=585.0, policy=policy).level == 2
    assert ev.w23_score_drop(at_decision=620.0, latest=600.0, policy=policy).level == 0
    assert ev.w23_score_drop(at_decision=None, latest=600.0, policy=policy).level == 0
