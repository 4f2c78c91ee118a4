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
        self._on = on
        self._values: dict[str, tuple[int, Decimal]] | None = None
        self.used: dict[str, int] = {}

    def _load(self) -> dict[str, tuple[int, Decimal]]:
        """key → (version, value) in force, read on the first key asked for (a run whose rules
        name no policy value reads nothing) and as plain pairs, not whole rows: scoring one
        application builds a resolver, and the rows' descriptions and citations were a
        tenth of its feature assembly (bench_scoring_worker)."""
        on = self._on or timezone.localdate()
        rows = (PolicyValue.objects.filter(effective_from__lte=on)
                .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
                .order_by("key", "-version").values_list("key", "version", "value"))
        values: dict[str, tuple[int, Decimal]] = {}
        for key, version, value in rows:
            values.setdefault(key, (version, value))
        return values

    def __call__(self, key: str) -> Decimal | None:
        if self._values is None:
            self._values = self._load()
        found = self._values.get(key)
        if found is None:
            return None
        self.used[key] = found[0]
        return found[1]
