"""The authority matrix as a function: validate its rows, find the rule for an application.

Validation names rows, so an administrator can fix the table: a gap ("nothing covers product X,
grade B, no exception, above CNY 3,000,000") would leave some application without a route, an
overlap would make the route depend on row order. Both are refused when a draft is published.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from apps.approvals.models import AuthorityMatrix, AuthorityRule, StepKind
from apps.products.models import CreditProduct

UNGRADED = "ungraded"  # a file scoring has not graded (yet) still needs a route


@dataclass(frozen=True)
class RuleKey:
    product_id: int
    grade: str
    policy_exception: bool


def _money(value) -> str:
    return "∞" if value is None else f"{Decimal(value):,.0f}"


def step_problems(steps) -> list[str]:
    """What is wrong with one row's steps, as sentences (empty when it is well-formed)."""
    if not isinstance(steps, list) or not steps:
        return [_("A route needs at least one step.")]
    problems = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            problems.append(_("Step %(n)s is not an object.") % {"n": number})
            continue
        kind = step.get("kind")
        if kind == StepKind.INDIVIDUAL:
            level = step.get("level")
            if not isinstance(level, int) or level < 1:
                problems.append(_("Step %(n)s needs an authority level of 1 or more.")
                                % {"n": number})
        elif kind == StepKind.COMMITTEE:
            if step.get("committee") not in ("branch", "head_office"):
                problems.append(_('Step %(n)s needs committee "branch" or "head_office".')
                                % {"n": number})
        else:
            problems.append(_("Step %(n)s has an unknown kind.") % {"n": number})
        if not step.get("label"):
            problems.append(_("Step %(n)s needs a label.") % {"n": number})
        deadline, remind = step.get("deadline_hours"), step.get("remind_after_hours")
        if not isinstance(deadline, int) or deadline < 1:
            problems.append(_("Step %(n)s needs a deadline in hours.") % {"n": number})
        elif not isinstance(remind, int) or not 0 < remind <= deadline:
            problems.append(_("Step %(n)s needs a reminder time within its deadline.")
                            % {"n": number})
    return problems


def matrix_problems(matrix: AuthorityMatrix, *, products=None) -> list[str]:
    """Every gap, overlap and malformed row of a matrix, each naming the rows involved."""
    problems = []
    grades = list(matrix.grades or [])
    if not grades:
        problems.append(_("The matrix must list the risk grades it covers."))
    rules = list(matrix.rules.select_related("product").order_by("row"))
    bands: dict[RuleKey, list[AuthorityRule]] = defaultdict(list)
    for rule in rules:
        for problem in step_problems(rule.steps):
            problems.append(_("Row %(row)s: %(problem)s") % {"row": rule.row, "problem": problem})
        if rule.amount_above < 0:
            problems.append(_("Row %(row)s: amounts cannot be negative.") % {"row": rule.row})
        if rule.amount_up_to is not None and rule.amount_up_to <= rule.amount_above:
            problems.append(_("Row %(row)s: the band's upper bound is not above its lower bound.")
                            % {"row": rule.row})
        unknown = set(rule.grades) - set(grades)
        if unknown or not rule.grades:
            problems.append(_("Row %(row)s: grades must be some of %(grades)s.")
                            % {"row": rule.row, "grades": ", ".join(grades)})
        for grade in rule.grades:
            bands[RuleKey(rule.product_id, grade, rule.policy_exception)].append(rule)

    products = list(products if products is not None else CreditProduct.objects.all())
    for product in products:
        for grade in grades:
            for exception in (False, True):
                key = RuleKey(product.pk, grade, exception)
                problems += _band_problems(product, key, bands.get(key, []))
    return problems


def _band_problems(product, key: RuleKey, rules: list[AuthorityRule]) -> list[str]:
    """The bands of one product × grade × exception must tile (0, ∞) exactly once."""
    where = _("%(product)s, grade %(grade)s, %(exception)s") % {
        "product": product.code, "grade": key.grade,
        "exception": _("policy exception") if key.policy_exception else _("no exception")}
    if not rules:
        return [_("Gap: no row covers %(where)s.") % {"where": where}]
    problems = []
    ordered = sorted(rules, key=lambda r: r.amount_above)
    covered_to = Decimal("0")
    previous = None
    for rule in ordered:
        if previous is not None and (covered_to is None or rule.amount_above < covered_to):
            problems.append(_("Overlap: rows %(a)s and %(b)s both cover %(where)s above "
                              "%(amount)s.") % {"a": previous.row, "b": rule.row,
                                                "where": where,
                                                "amount": _money(rule.amount_above)})
        elif rule.amount_above > covered_to:
            problems.append(_("Gap: nothing covers %(where)s from %(low)s to %(high)s.")
                            % {"where": where, "low": _money(covered_to),
                               "high": _money(rule.amount_above)})
        if covered_to is not None:
            covered_to = None if rule.amount_up_to is None else max(covered_to,
                                                                     rule.amount_up_to)
        previous = rule
    if covered_to is not None:
        problems.append(_("Gap: nothing covers %(where)s above %(amount)s.")
                        % {"where": where, "amount": _money(covered_to)})
    return problems


def rule_for(matrix: AuthorityMatrix, *, product_id: int, amount: Decimal, grade: str,
             policy_exception: bool) -> AuthorityRule | None:
    """The one row covering these facts (a published matrix has exactly one)."""
    for rule in matrix.rules.filter(product_id=product_id, policy_exception=policy_exception):
        if grade in rule.grades and rule.amount_above < amount \
                and (rule.amount_up_to is None or amount <= rule.amount_up_to):
            return rule
    return None
