"""classify_size against the seeded 2011 rows (§5.5), without a database."""

import importlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.parties.size import (
    SizeClass,
    SizeFigures,
    SizeRule,
    SizeStandardError,
    classify_size,
)

seed = importlib.import_module("apps.parties.migrations.0002_seed_size_standard_2011")


def _rules() -> list[SizeRule]:
    def dec(value):
        return None if value is None else Decimal(value)

    return [SizeRule(version=seed.VERSION, row_no=row, industry_label=label,
                     industry_scope=scope, metric_a=a, metric_b=b,
                     ceiling_a=dec(ceiling[0]), ceiling_b=dec(ceiling[1]),
                     medium_min_a=dec(medium[0]), medium_min_b=dec(medium[1]),
                     small_min_a=dec(small[0]), small_min_b=dec(small[1]),
                     micro_below_a=dec(micro[0]), micro_below_b=dec(micro[1]))
            for row, label, scope, a, b, ceiling, medium, small, micro, _ev in seed.ROWS]


RULES = _rules()


def size(key, employees=None, revenue=None, assets=None):
    figures = SizeFigures(industry_key=key, employees=employees,
                          revenue_wan=None if revenue is None else Decimal(revenue),
                          assets_wan=None if assets is None else Decimal(assets))
    return classify_size(RULES, figures)


@pytest.mark.parametrize("employees, revenue, expected", [
    # The reference's own cases (§5.5, 工业).
    (50, 1500, SizeClass.SMALL),
    (15, 5000, SizeClass.MICRO),     # employees alone decide: micro is "either below"
    (1500, 30000, SizeClass.MEDIUM),  # SME because revenue < 40000; both medium minima met
    (1500, 50000, SizeClass.LARGE),
    # "以下" is strictly below: exactly on both ceilings is large, one unit under is SME.
    (1000, 40000, SizeClass.LARGE),
    (999, 40000, SizeClass.MEDIUM),
    (1000, "39999.99", SizeClass.MEDIUM),
    # "及以上" is inclusive: exactly on the minima belongs to the higher band.
    (300, 2000, SizeClass.MEDIUM),
    (299, 2000, SizeClass.SMALL),
    (300, "1999.99", SizeClass.SMALL),
    (20, 300, SizeClass.SMALL),
    (19, 300, SizeClass.MICRO),
    (20, "299.99", SizeClass.MICRO),
    (0, 0, SizeClass.MICRO),
])
def test_industry(employees, revenue, expected):
    for key in ("B", "C", "C39", "D44"):
        assert size(key, employees, revenue).size_class == expected


@pytest.mark.parametrize("revenue, expected", [
    ("49.99", SizeClass.MICRO), (50, SizeClass.SMALL), ("499.99", SizeClass.SMALL),
    (500, SizeClass.MEDIUM), ("19999.99", SizeClass.MEDIUM), (20000, SizeClass.LARGE),
])
def test_agriculture_uses_revenue_only(revenue, expected):
    result = size("A01", employees=None, revenue=revenue)
    assert result.size_class == expected
    assert "employees" not in result.explanation


@pytest.mark.parametrize("revenue, assets, expected", [
    (80000, 80000, SizeClass.LARGE),
    (90000, 79999, SizeClass.MEDIUM),   # assets under the ceiling keep it in the SME range
    (6000, 4999, SizeClass.SMALL),      # medium needs both
    (299, 100000, SizeClass.MICRO),     # revenue alone keeps it SME, and micro
    (299, 5000, SizeClass.MICRO),
])
def test_construction_uses_revenue_and_assets(revenue, assets, expected):
    assert size("E48", revenue=revenue, assets=assets).size_class == expected


@pytest.mark.parametrize("key, employees, revenue, expected", [
    ("F51", 5, 1000, SizeClass.SMALL), ("F51", 4, 40000 - 1, SizeClass.MICRO),
    ("F51", 200, 40000, SizeClass.LARGE), ("F51", 20, 5000, SizeClass.MEDIUM),
    ("F52", 10, 100, SizeClass.SMALL), ("F52", 300, 20000, SizeClass.LARGE),
    ("G54", 20, 200, SizeClass.SMALL), ("G59", 100, 1000, SizeClass.MEDIUM),
    ("G60", 20, 99, SizeClass.MICRO), ("H61", 100, 2000, SizeClass.MEDIUM),
    ("H62", 9, 5000, SizeClass.MICRO), ("I64", 2000, 100000, SizeClass.LARGE),
    ("I64", 1999, 100000, SizeClass.MEDIUM), ("I65", 10, 50, SizeClass.SMALL),
    ("K702", 100, 500, SizeClass.SMALL), ("K702", 1000, 5000, SizeClass.LARGE),
])
def test_other_lines(key, employees, revenue, expected):
    assert size(key, employees, revenue).size_class == expected


def test_real_estate_development_is_sme_when_assets_are_under_the_ceiling():
    # rev 200000 "or" assets 10000: huge revenue but assets 9000 stays SME (medium).
    assert size("K701", revenue=250000, assets=9000).size_class == SizeClass.MEDIUM
    assert size("K701", revenue=200000, assets=10000).size_class == SizeClass.LARGE
    assert size("K701", revenue=100, assets=2000).size_class == SizeClass.SMALL


def test_leasing_uses_employees_and_assets():
    assert size("L72", employees=100, assets=8000).size_class == SizeClass.MEDIUM
    assert size("L72", employees=300, assets=120000).size_class == SizeClass.LARGE
    assert size("L72", employees=9, assets=8000).size_class == SizeClass.MICRO


def test_unlisted_industries_use_the_other_line():
    for key in ("M75", "O80", "K703", "J66"):
        result = size(key, employees=10)
        assert (result.size_class, result.row_no) == (SizeClass.SMALL, 16)
    assert size("M", employees=300).size_class == SizeClass.LARGE
    assert size("M", employees=9).size_class == SizeClass.MICRO


@pytest.mark.parametrize("key, finer", [("F", "F51, F52"), ("K", "K701, K702"),
                                        ("K70", "K701, K702"), ("H", "H61, H62")])
def test_a_section_the_standard_splits_cannot_be_classified(key, finer):
    result = size(key, employees=10, revenue=100)
    assert not result.classified
    assert finer in result.explanation


def test_missing_figures_are_named():
    result = size("C13", employees=50)
    assert not result.classified
    assert result.missing == ("revenue",)
    assert result.version == seed.VERSION


def test_explanation_shows_each_comparison_and_the_version():
    result = size("C13", 50, 1500)
    assert result.explanation.startswith(f"{seed.VERSION} row 2 工业")
    assert "employees 50 < 1000 or revenue 1500 < 40000: yes" in result.explanation
    assert "employees 50 >= 300 and revenue 1500 >= 2000: no" in result.explanation
    assert result.explanation.endswith("→ small")


def test_no_rows_means_no_class():
    assert classify_size([], SizeFigures(industry_key="C", employees=1,
                                         revenue_wan=Decimal(1))).size_class == ""


def test_rows_of_two_versions_are_refused():
    other = SizeRule(**{**RULES[1].__dict__, "version": "NEXT"})
    with pytest.raises(SizeStandardError):
        classify_size([RULES[1], other], SizeFigures(industry_key="C", employees=1,
                                                     revenue_wan=Decimal(1)))


def test_overlapping_scopes_are_refused():
    clash = SizeRule(**{**RULES[1].__dict__, "row_no": 99})
    with pytest.raises(SizeStandardError):
        classify_size([RULES[1], clash], SizeFigures(industry_key="C", employees=1,
                                                     revenue_wan=Decimal(1)))


def test_a_row_with_a_gap_between_micro_and_small_yields_no_class():
    gap = SizeRule(version="T", row_no=1, industry_label="t", industry_scope=["*"],
                   metric_a="employees", ceiling_a=Decimal(300), medium_min_a=Decimal(100),
                   small_min_a=Decimal(20), micro_below_a=Decimal(10))
    result = classify_size([gap], SizeFigures(industry_key="C", employees=15))
    assert result.size_class == ""
    assert "gap" in result.explanation


ORDER = {SizeClass.MICRO: 0, SizeClass.SMALL: 1, SizeClass.MEDIUM: 2, SizeClass.LARGE: 3}
KEYS = ["A01", "C13", "E48", "F51", "F52", "G54", "G59", "G60", "H61", "H62", "I64", "I65",
        "K701", "K702", "L72", "M75"]
amounts = st.decimals(min_value=0, max_value=300000, places=2)


@given(st.sampled_from(KEYS), st.integers(0, 5000), amounts, amounts,
       st.sampled_from(["employees", "revenue", "assets"]), st.integers(1, 100000))
def test_more_people_or_money_never_makes_a_firm_smaller(key, emp, rev, assets, metric, bump):
    before = size(key, emp, rev, assets)
    grown = {"employees": emp, "revenue": rev, "assets": assets}
    grown[metric] += bump
    after = size(key, grown["employees"], grown["revenue"], grown["assets"])
    assert before.classified and after.classified
    assert ORDER[after.size_class] >= ORDER[before.size_class]


@given(st.sampled_from(KEYS), st.integers(0, 5000), amounts, amounts)
def test_the_seeded_rows_leave_no_gap(key, emp, rev, assets):
    # §5.5: with the 2011 figures "micro if either below" is exactly "not both small minima",
    # so every complete set of figures gets a class.
    assert size(key, emp, rev, assets).size_class in ORDER
