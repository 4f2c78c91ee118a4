"""The policy values the hub reads: prices, freshness windows, HTTP limits, the breaker and
the budgets (domain reference §0.2: thresholds are data, never constants in code).

A branch's monthly budget is `datahub.budget.monthly.<branch code>` when that key is in force,
else the bank-wide `datahub.budget.monthly`. Seeded as version 1 by the app's data migration
(and by `seed_datahub_policies()` for tests); a bank changes them by publishing a new version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from apps.core.exceptions import DomainError
from apps.investigations.models import PolicyValue

_SRC = "Issue 21 (external data hub) [G]"

# key, value, unit, description (en); evidence G (design defaults) for all of them.
DATAHUB_POLICIES: list[tuple[str, str, str, str]] = [
    ("datahub.registry.price", "5", "CNY", "Price of one business-registry query"),
    ("datahub.registry.freshness_hours", "720", "hours",
     "A registry answer younger than this is reused instead of paying again"),
    ("datahub.registry.timeout_seconds", "5", "seconds", "Registry HTTP timeout per attempt"),
    ("datahub.registry.max_attempts", "3", "attempts", "Registry attempts before a pull fails"),
    ("datahub.court.price", "3", "CNY", "Price of one court-enforcement search"),
    ("datahub.court.freshness_hours", "168", "hours",
     "A court answer younger than this is reused instead of paying again"),
    ("datahub.court.timeout_seconds", "5", "seconds", "Court HTTP timeout per attempt"),
    ("datahub.court.max_attempts", "3", "attempts", "Court attempts before a pull fails"),
    ("datahub.tax.price", "4", "CNY", "Price of one tax-bureau query"),
    ("datahub.tax.freshness_hours", "720", "hours",
     "A tax answer younger than this is reused instead of paying again"),
    ("datahub.tax.timeout_seconds", "5", "seconds", "Tax HTTP timeout per attempt"),
    ("datahub.tax.max_attempts", "3", "attempts", "Tax attempts before a pull fails"),
    ("datahub.utility.price", "2", "CNY", "Price of one utility-consumption query"),
    ("datahub.utility.freshness_hours", "720", "hours",
     "A utility answer younger than this is reused instead of paying again"),
    ("datahub.utility.timeout_seconds", "5", "seconds", "Utility HTTP timeout per attempt"),
    ("datahub.utility.max_attempts", "3", "attempts", "Utility attempts before a pull fails"),
    ("datahub.bureau.price", "20", "CNY", "Price of one credit-bureau report"),
    ("datahub.bureau.freshness_hours", "720", "hours",
     "A credit report younger than this is reused instead of paying again"),
    ("datahub.bureau.timeout_seconds", "8", "seconds", "Credit-bureau HTTP timeout per attempt"),
    ("datahub.bureau.max_attempts", "3", "attempts", "Credit-bureau attempts before a pull fails"),
    ("datahub.bureau.refresh_days", "30", "days",
     "Loans on the book: the enterprise's credit report is asked again when this old "
     "(domain reference §4.3 W02: monthly)"),
    ("datahub.registry.refresh_days", "90", "days",
     "Loans on the book: the registry is asked again when its answer is this old"),
    ("datahub.court.refresh_days", "30", "days",
     "Loans on the book: the court lists are searched again when the answer is this old"),
    ("datahub.tax.refresh_days", "30", "days",
     "Loans on the book: the tax bureau is asked again when its answer is this old (domain "
     "reference §4.1 off-site data refresh: tax monthly [G]; feeds W07)"),
    ("datahub.utility.refresh_days", "30", "days",
     "Loans on the book: the utilities are asked again when their answer is this old (domain "
     "reference §4.1 off-site data refresh: utilities monthly [G]; feeds W08)"),
    ("datahub.bureau.person_refresh_days", "30", "days",
     "Loans on the book: the credit report of each guarantor and of the legal representative "
     "(with their own consent) is asked again when this old (domain reference §4.1 off-site "
     "data refresh: credit report monthly [G]; §4.3 W02, W15)"),
    ("datahub.http.backoff_seconds", "0.5", "seconds",
     "First back-off between attempts; doubled after each failure"),
    ("datahub.http.backoff_max_seconds", "8", "seconds", "Longest back-off between attempts"),
    ("datahub.breaker.failure_threshold", "5", "failures",
     "Consecutive failed pulls of a source that open its circuit"),
    ("datahub.breaker.open_seconds", "60", "seconds",
     "How long an open circuit refuses queries before one is let through"),
    ("datahub.budget.monthly", "2000", "CNY", "Monthly external-data budget of a branch"),
    ("datahub.budget.warning_share", "0.8", "ratio",
     "Share of the monthly budget at which requests carry a warning"),
    ("datahub.finding.dishonest.severity", "3", "severity",
     "Severity of the finding for a listed dishonest debtor"),
    ("datahub.finding.enforcement.severity", "2", "severity",
     "Severity of the finding for an open court enforcement case"),
    ("datahub.finding.mismatch.severity", "2", "severity",
     "Severity of the finding when an answer disagrees with the pulled value"),
]


class PolicyMissing(DomainError):
    code = "policy_missing"
    status_code = 409

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"Policy value {key} is not in force.", fields={"policy": [key]})


@dataclass(frozen=True)
class SourcePolicy:
    price: Decimal
    freshness: dt.timedelta
    timeout: float
    max_attempts: int
    backoff: float
    backoff_max: float


class HubPolicy:
    """The hub's values in force today (`datahub.*` only: one small indexed query per service
    call, not the whole policy table); `used` records each key's version for the audit."""

    def __init__(self, *, on: dt.date | None = None):
        on = on or timezone.localdate()
        rows = (PolicyValue.objects.filter(key__startswith="datahub.", effective_from__lte=on)
                .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
                .order_by("key", "-version").values_list("key", "value", "version"))
        self._values: dict[str, tuple[Decimal, int]] = {}
        for key, value, version in rows:
            self._values.setdefault(key, (value, version))
        self._used: dict[str, int] = {}

    def get(self, key: str) -> Decimal | None:
        found = self._values.get(key)
        if found is None:
            return None
        self._used[key] = found[1]
        return found[0]

    def need(self, key: str) -> Decimal:
        value = self.get(key)
        if value is None:
            raise PolicyMissing(key)
        return Decimal(value)

    def source(self, source: str) -> SourcePolicy:
        return SourcePolicy(
            price=self.need(f"datahub.{source}.price"),
            freshness=dt.timedelta(hours=float(self.need(f"datahub.{source}.freshness_hours"))),
            timeout=float(self.need(f"datahub.{source}.timeout_seconds")),
            max_attempts=max(1, int(self.need(f"datahub.{source}.max_attempts"))),
            backoff=float(self.need("datahub.http.backoff_seconds")),
            backoff_max=float(self.need("datahub.http.backoff_max_seconds")))

    def monthly_budget(self, branch_code: str) -> Decimal:
        own = self.get(f"datahub.budget.monthly.{branch_code}")
        return Decimal(own) if own is not None else self.need("datahub.budget.monthly")

    @property
    def used(self) -> dict[str, int]:
        return dict(self._used)


def seed_datahub_policies(policy_model=None) -> list[str]:
    """Create version 1 of each hub policy not on file yet (idempotent; never rewrites)."""
    policy_model = policy_model or PolicyValue
    created = []
    for key, value, unit, description in DATAHUB_POLICIES:
        _, was_created = policy_model.objects.get_or_create(
            key=key, version=1,
            defaults={"value": Decimal(value), "unit": unit, "evidence": "G",
                      "source_citation": _SRC, "description_en": description,
                      "effective_from": dt.date(2024, 1, 1)})
        if was_created:
            created.append(key)
    return created
