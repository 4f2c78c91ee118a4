from decimal import Decimal

import pytest

from apps.products.conditions import ConditionValueError, evaluate_condition, normalise_value


@pytest.mark.parametrize(("fact", "operator", "value", "expected"), [
    ("years_in_operation", "gte", "2", "2"),
    ("years_in_operation", "gte", 2, "2"),
    ("annual_revenue", "between", ["1000000", "5000000.50"], ["1000000", "5000000.50"]),
    ("tax_credit_rating", "in", ["A", "B"], ["A", "B"]),
    ("industry", "not_in", ["J"], ["J"]),
    ("size_class", "eq", "micro", "micro"),
])
def test_values_are_normalised(fact, operator, value, expected):
    assert normalise_value(fact, operator, value) == expected


@pytest.mark.parametrize(("fact", "operator", "value", "message"), [
    ("years_in_operation", "gte", 2.5, "as text"),
    ("years_in_operation", "gte", "two", "not a number"),
    ("tax_credit_rating", "in", ["Z"], "not one of"),
    ("tax_credit_rating", "gte", "A", "numeric fact"),
    ("annual_revenue", "between", ["5", "1"], "lower bound"),
    ("annual_revenue", "between", ["5"], "two numbers"),
    ("industry", "in", [], "non-empty list"),
    ("industry", "eq", ["C"], "single value"),
    ("favourite_colour", "eq", "red", "Unknown fact"),
    ("industry", "like", "C", "Unknown operator"),
])
def test_bad_values_are_refused_with_a_reason(fact, operator, value, message):
    with pytest.raises(ConditionValueError, match=message):
        normalise_value(fact, operator, value)


def _check(fact, operator, value, actual):
    return evaluate_condition(code="c", fact=fact, operator=operator, value=value, actual=actual,
                              reason_en="r", reason_zh="r")


@pytest.mark.parametrize(("operator", "value", "actual", "passed"), [
    ("gte", "2", Decimal("2.00"), True),
    ("gte", "2", Decimal("1.99"), False),
    ("gt", "2", Decimal("2"), False),
    ("lt", "2", Decimal("1.5"), True),
    ("lte", "2", Decimal("2"), True),
    ("eq", "3", Decimal("3.00"), True),
    ("ne", "3", Decimal("3.00"), False),
    ("between", ["1", "3"], Decimal("3"), True),
    ("between", ["1", "3"], Decimal("3.01"), False),
])
def test_numeric_operators(operator, value, actual, passed):
    assert _check("years_in_operation", operator, value, actual).passed is passed


def test_choice_operators():
    assert _check("tax_credit_rating", "in", ["A", "B"], "B").passed
    assert not _check("tax_credit_rating", "not_in", ["D"], "D").passed
    assert _check("size_class", "eq", "micro", "micro").passed


def test_unknown_fact_fails_and_says_so():
    outcome = _check("years_in_operation", "gte", "2", None)
    assert (outcome.passed, outcome.missing, outcome.actual) == (False, True, None)
