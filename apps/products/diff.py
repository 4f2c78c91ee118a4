"""A draft product version against the version in force, in sentences a policy officer reads
(issue 17): each changed term and each added, removed or changed entry condition, both sides
side by side. Reads only."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.products.models import CollateralType, EntryCondition, ProductVersion, RepaymentMethod
from apps.products.report import condition_value_display


@dataclass(frozen=True)
class DiffLine:
    """One difference: what it is about, the value in force, the draft's value, a sentence."""

    subject: str
    in_force: str
    draft: str
    sentence: str


def _labels(values, choices) -> str:
    names = dict(choices)
    return ", ".join(str(names.get(v, v)) for v in values or [])


def _term_display(version: ProductVersion, name: str) -> str:
    value = getattr(version, name)
    if name == "repayment_methods":
        return _labels(value, RepaymentMethod.choices)
    if name == "collateral_types":
        return _labels(value, CollateralType.choices)
    if name in ("currency", "day_count"):
        return str(getattr(version, f"get_{name}_display")())
    return "" if value is None else str(value)


def _condition_display(condition: EntryCondition) -> str:
    return (f"{condition.get_fact_display()} {condition.get_operator_display()} "
            f"{condition_value_display(condition)}")


TERMS = ("currency", "amount_min", "amount_max", "term_min_months", "term_max_months",
         "rate_min", "rate_max", "repayment_methods", "collateral_types", "day_count")


def product_version_diff(*, draft: ProductVersion, in_force: ProductVersion | None
                         ) -> list[DiffLine]:
    """Every difference between `draft` and `in_force` (None: everything in the draft is new)."""
    lines: list[DiffLine] = []
    for name in TERMS:
        label = str(ProductVersion._meta.get_field(name).verbose_name)
        new = _term_display(draft, name)
        old = _term_display(in_force, name) if in_force is not None else ""
        if old != new:
            lines.append(DiffLine(label, old, new, _("%(term)s changes from %(old)s to %(new)s.")
                                  % {"term": label.capitalize(), "old": old or "—", "new": new}))
    old_conditions = ({c.code: c for c in in_force.conditions.all()}
                      if in_force is not None else {})
    new_conditions = {c.code: c for c in draft.conditions.all()}
    for code, condition in new_conditions.items():
        before = old_conditions.get(code)
        shown = _condition_display(condition)
        if before is None:
            lines.append(DiffLine(code, "", shown, _(
                "New entry condition: %(rule)s (“%(reason)s”).")
                % {"rule": shown, "reason": condition.reason}))
        elif (_condition_display(before), before.reason_en, before.reason_zh,
              before.effective_from) != (shown, condition.reason_en, condition.reason_zh,
                                         condition.effective_from):
            lines.append(DiffLine(code, _condition_display(before), shown, _(
                "Entry condition %(code)s changes from “%(old)s” to “%(new)s”.")
                % {"code": code, "old": _condition_display(before), "new": shown}))
    for code, condition in old_conditions.items():
        if code not in new_conditions:
            shown = _condition_display(condition)
            lines.append(DiffLine(code, shown, "", _(
                "Entry condition %(code)s is dropped: %(rule)s no longer applies.")
                % {"code": code, "rule": shown}))
    return lines
