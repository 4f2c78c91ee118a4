"""Reading policy values for rules: the value in force on a day, and which version was used.

Domain reference §0.2: decisions and checklist runs record the policy version they used, so a
past finding can be re-explained under the rules of its day. `PolicyResolver` is the callable
the expression evaluator takes (`EvalContext.policy`); it remembers each key's version.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Q, Subquery
from django.db.models.signals import post_delete, post_save
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


# Values in force by (day, `policy_values_changed_at`): see PolicyResolver's `changed_at`.
_IN_FORCE: dict[tuple, dict[str, tuple[int, Decimal]]] = {}
_IN_FORCE_MAX = 8
_UNKNOWN = object()


def policy_values_changed_at() -> Subquery:
    """When the values readers see last changed, as a subquery a caller adds to a read it
    makes anyway (the scoring worker's application read). Every change of a value readers
    see saves a row (a new version, a publication, the predecessor it supersedes, a
    retirement: published rows are never edited or deleted), so it moves the newest
    `updated_at`; a rolled-back change takes it back to the state it names."""
    return Subquery(PolicyValue.objects.order_by("-updated_at").values("updated_at")[:1])


def _forget_values(**kwargs) -> None:
    _IN_FORCE.clear()


post_save.connect(_forget_values, sender=PolicyValue, dispatch_uid="policy_values_in_force")
post_delete.connect(_forget_values, sender=PolicyValue,
                    dispatch_uid="policy_values_in_force_delete")


class PolicyResolver:
    """`resolver(key) -> Decimal | None`, loading the values in force once per evaluation run.

    `used` maps each key read to its version, for the finding's record. `changed_at`: the
    caller's `policy_values_changed_at()`, read just before; the values in force are then
    read once per process, day and change instead of once per run.
    """

    def __init__(self, *, on: dt.date | None = None, changed_at=_UNKNOWN):
        self._on = on
        self._changed_at = changed_at
        self._values: dict[str, tuple[int, Decimal]] | None = None
        self.used: dict[str, int] = {}

    def _load(self) -> dict[str, tuple[int, Decimal]]:
        """key → (version, value) in force, read on the first key asked for (a run whose rules
        name no policy value reads nothing) and as plain pairs, not whole rows: scoring one
        application builds a resolver, and the rows' descriptions and citations were a
        tenth of its feature assembly (bench_scoring_worker)."""
        on = self._on or timezone.localdate()
        key = None if self._changed_at is _UNKNOWN else (on, self._changed_at)
        if key is not None and key in _IN_FORCE:
            return _IN_FORCE[key]
        rows = (PolicyValue.objects.filter(effective_from__lte=on)
                .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
                .order_by("key", "-version").values_list("key", "version", "value"))
        values: dict[str, tuple[int, Decimal]] = {}
        for code, version, value in rows:
            values.setdefault(code, (version, value))
        if key is not None:
            if len(_IN_FORCE) >= _IN_FORCE_MAX:
                _IN_FORCE.clear()
            _IN_FORCE[key] = values
        return values

    def __call__(self, key: str) -> Decimal | None:
        if self._values is None:
            self._values = self._load()
        found = self._values.get(key)
        if found is None:
            return None
        self.used[key] = found[0]
        return found[1]
