"""Reading policy values for rules: the value in force on a day, and which version was used.

Domain reference §0.2: decisions and checklist runs record the policy version they used, so a
past finding can be re-explained under the rules of its day. `PolicyResolver` is the callable
the expression evaluator takes (`EvalContext.policy`); it remembers each key's version.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from apps.investigations.models import PolicyValue


def policy_values_in_force(*, on: dt.date | None = None) -> dict[str, PolicyValue]:
    """key → the highest version effective on `on` (today by default)."""
    on = on or timezone.localdate()
    rows = (PolicyValue.objects.filter(effective_from__lte=on)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
            .order_by("key", "-version"))
    current: dict[str, PolicyValue] = {}
    for row in rows:
        current.setdefault(row.key, row)
    return current


def policy_keys() -> set[str]:
    """Every key with any version: what a template may name (a key scheduled for next month
    is still a valid reference)."""
    return set(PolicyValue.objects.values_list("key", flat=True).distinct())


class PolicyResolver:
    """`resolver(key) -> Decimal | None`, loading the values in force once per evaluation run.

    `used` maps each key read to its version, for the finding's record.
    """

    def __init__(self, *, on: dt.date | None = None):
        self._values = policy_values_in_force(on=on)
        self.used: dict[str, int] = {}

    def __call__(self, key: str) -> Decimal | None:
        row = self._values.get(key)
        if row is None:
            return None
        self.used[key] = row.version
        return row.value
