"""Which products an enterprise qualifies for, and why not for the others.

The result is plain data (JSON-safe) so an application can store exactly what it was checked
against: the version, the date, each fact's value and each condition's verdict.
"""

import datetime as dt
from dataclasses import dataclass, field

from apps.parties.models import Enterprise
from apps.products.conditions import ConditionOutcome, evaluate_condition
from apps.products.facts import FACTS
from apps.products.models import EntryCondition, ProductVersion


@dataclass
class Eligibility:
    version: ProductVersion
    evaluated_on: dt.date
    outcomes: list[ConditionOutcome] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)

    @property
    def failures(self) -> list[ConditionOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def as_record(self) -> dict:
        """What an application stores: enough to re-explain the decision years later."""
        return {
            "product": self.version.product.code,
            "version": self.version.version,
            "version_id": self.version.pk,
            "evaluated_on": self.evaluated_on.isoformat(),
            "eligible": self.eligible,
            "conditions": [outcome.as_dict() for outcome in self.outcomes],
        }


def compute_facts(enterprise: Enterprise, on: dt.date, codes) -> dict[str, object]:
    """Each fact once, however many conditions use it."""
    return {code: FACTS[code].compute(enterprise, on) for code in set(codes)}


def evaluate(*, version: ProductVersion, enterprise: Enterprise, on: dt.date,
             conditions: list[EntryCondition] | None = None,
             facts: dict | None = None) -> Eligibility:
    """Check every condition of the version; all must pass. Missing data fails its condition."""
    conditions = list(version.conditions.all()) if conditions is None else conditions
    facts = facts if facts is not None else compute_facts(
        enterprise, on, [c.fact for c in conditions])
    result = Eligibility(version=version, evaluated_on=on)
    for condition in conditions:
        if condition.effective_from and condition.effective_from > on:
            continue  # announced, not yet in force
        result.outcomes.append(evaluate_condition(
            code=condition.code, fact=condition.fact, operator=condition.operator,
            value=condition.value, actual=facts.get(condition.fact),
            reason_en=condition.reason_en, reason_zh=condition.reason_zh))
    return result
