"""Declarative entry conditions: operators, value validation and evaluation. No I/O here.

A condition is data — fact, operator, value — so the product owner can change a threshold
without a release, and every evaluation can be replayed later from what was stored.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from apps.products.facts import CHOICE, FACTS, NUMBER


class Operator(TextChoices):
    GTE = "gte", _("at least")
    GT = "gt", _("more than")
    LTE = "lte", _("at most")
    LT = "lt", _("less than")
    EQ = "eq", _("equal to")
    NE = "ne", _("not equal to")
    IN = "in", _("one of")
    NOT_IN = "not_in", _("none of")
    BETWEEN = "between", _("between (inclusive)")


_COMPARISONS = {Operator.GTE, Operator.GT, Operator.LTE, Operator.LT}
_LIST_OPERATORS = {Operator.IN, Operator.NOT_IN}


class ConditionValueError(ValueError):
    """The value does not fit the fact and operator; message names what is wrong."""


def _decimal(raw) -> Decimal:
    if isinstance(raw, float):  # floats would carry binary noise into thresholds
        raise ConditionValueError(_("Write numbers as text, e.g. \"3\" or \"0.70\"."))
    try:
        return Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise ConditionValueError(_("“%(value)s” is not a number.") % {"value": raw}) from exc


def normalise_value(fact_code: str, operator: str, value):
    """Check a condition's value against its fact and operator; return its canonical form.

    Numbers are kept as strings of Decimals, so the JSON column and the audit trail never hold
    floats; choices must be among the fact's choices.
    """
    fact = FACTS.get(fact_code)
    if fact is None:
        raise ConditionValueError(_("Unknown fact “%(fact)s”.") % {"fact": fact_code})
    if operator not in Operator.values:
        raise ConditionValueError(_("Unknown operator “%(op)s”.") % {"op": operator})

    def one(raw):
        if fact.kind == NUMBER:
            return str(_decimal(raw))
        text = str(raw)
        if fact.kind == CHOICE and fact.choices and text not in fact.choices:
            raise ConditionValueError(
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": text, "choices": ", ".join(fact.choices)})
        return text

    if operator in _LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            raise ConditionValueError(_("Give a non-empty list of values."))
        return [one(item) for item in value]
    if operator == Operator.BETWEEN:
        if fact.kind != NUMBER or not isinstance(value, list) or len(value) != 2:
            raise ConditionValueError(_("“between” needs a numeric fact and two numbers."))
        low, high = (one(item) for item in value)
        if Decimal(low) > Decimal(high):
            raise ConditionValueError(_("The lower bound is above the upper bound."))
        return [low, high]
    if operator in _COMPARISONS and fact.kind != NUMBER:
        raise ConditionValueError(_("Comparisons need a numeric fact."))
    if isinstance(value, list):
        raise ConditionValueError(_("Give a single value for this operator."))
    return one(value)


def _holds(kind: str, operator: str, actual, expected) -> bool:
    """Numbers compare as Decimals (so "3" equals "3.00"), choices and text as strings."""
    if kind == NUMBER:
        actual = Decimal(str(actual))
        expected = ([Decimal(v) for v in expected] if isinstance(expected, list)
                    else Decimal(expected))
    else:
        actual = str(actual)
    match operator:
        case Operator.GTE:
            return actual >= expected
        case Operator.GT:
            return actual > expected
        case Operator.LTE:
            return actual <= expected
        case Operator.LT:
            return actual < expected
        case Operator.BETWEEN:
            return expected[0] <= actual <= expected[1]
        case Operator.EQ:
            return actual == expected
        case Operator.NE:
            return actual != expected
        case Operator.IN:
            return actual in expected
        case Operator.NOT_IN:
            return actual not in expected
    raise ConditionValueError(operator)


@dataclass(frozen=True)
class ConditionOutcome:
    """One condition's verdict, with the numbers behind it (stored on the application)."""

    code: str
    fact: str
    operator: str
    expected: object
    actual: object  # as text, or None when the fact is unknown for this applicant
    passed: bool
    missing: bool
    reason_en: str
    reason_zh: str

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate_condition(*, code: str, fact: str, operator: str, value, actual,
                       reason_en: str, reason_zh: str) -> ConditionOutcome:
    """An unknown fact fails the condition: eligibility is never granted on missing data."""
    missing = actual is None
    passed = False if missing else _holds(FACTS[fact].kind, operator, actual, value)
    return ConditionOutcome(code=code, fact=fact, operator=operator, expected=value,
                            actual=None if missing else str(actual), passed=passed,
                            missing=missing, reason_en=reason_en, reason_zh=reason_zh)
