"""Facts about an applicant that entry conditions may test, each with its type and source.

A condition names a fact by code ("years_in_operation"); the registry says how to compute it
from the enterprise and its relations as of a date. Conditions are data an admin edits; facts
are code a developer reviews, so an admin can never make the engine run arbitrary code.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from apps.parties.industries import Industry
from apps.parties.models import Enterprise, Relationship, RelationshipKind, TaxCreditRating
from apps.parties.size import SizeClass
from apps.parties.validators import resident_id_birth_date

NUMBER, CHOICE, TEXT = "number", "choice", "text"


@dataclass(frozen=True)
class Fact:
    code: str
    label: object  # lazy translation
    kind: str  # NUMBER or CHOICE
    compute: Callable[[Enterprise, dt.date], object]
    unit: str = ""
    choices: tuple[str, ...] = ()


def _years_between(start: dt.date, end: dt.date) -> Decimal:
    """Whole years plus the fraction of the current year, to two places (2.50 = 2½ years)."""
    days = (end - start).days
    return (Decimal(days) / Decimal("365.25")).quantize(Decimal("0.01"))


def _years_in_operation(enterprise: Enterprise, on: dt.date):
    if enterprise.registration_date is None:
        return None
    return _years_between(enterprise.registration_date, on)


# Where `controller_edges_prefetch()` leaves the edges, so batch callers (the threshold
# report) compute controller_age without one query per enterprise.
CONTROLLER_EDGES_ATTR = "prefetched_controller_edges"


def controller_edges_prefetch() -> Prefetch:
    return Prefetch("relationships_in", to_attr=CONTROLLER_EDGES_ATTR,
                    queryset=Relationship.objects.filter(
                        kind=RelationshipKind.ACTUAL_CONTROLLER, from_person__isnull=False)
                    .select_related("from_person").order_by("id"))


def _controller_age(enterprise: Enterprise, on: dt.date):
    """Age in whole years of the actual controller (from the GB 11643 birth date); the first
    actual-controller edge from a person (lowest id) counts."""
    edges = getattr(enterprise, CONTROLLER_EDGES_ATTR, None)
    if edges is None:
        edges = list(enterprise.relationships_in.filter(
            kind=RelationshipKind.ACTUAL_CONTROLLER, from_person__isnull=False)
            .select_related("from_person").order_by("id")[:1])
    edge = edges[0] if edges else None
    if edge is None:
        return None
    born = resident_id_birth_date(edge.from_person.resident_id)
    if born is None:
        return None
    return Decimal(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def _attribute(name: str):
    def compute(enterprise: Enterprise, on: dt.date):
        value = getattr(enterprise, name)
        return None if value in (None, "") else value
    return compute


FACTS: dict[str, Fact] = {fact.code: fact for fact in (
    Fact("years_in_operation", _("Years in operation"), NUMBER, _years_in_operation,
         unit=_("years")),
    Fact("tax_credit_rating", _("Tax credit rating"), CHOICE, _attribute("tax_credit_rating"),
         choices=tuple(TaxCreditRating.values)),
    Fact("size_class", _("Enterprise size class"), CHOICE, _attribute("size_class"),
         choices=tuple(SizeClass.values)),
    Fact("industry", _("Industry section (GB/T 4754)"), CHOICE, _attribute("industry"),
         choices=tuple(Industry.values)),
    Fact("annual_revenue", _("Annual operating revenue"), NUMBER, _attribute("annual_revenue"),
         unit="CNY"),
    Fact("total_assets", _("Total assets"), NUMBER, _attribute("total_assets"), unit="CNY"),
    Fact("employees", _("Employees"), NUMBER, _attribute("employees")),
    Fact("controller_age", _("Actual controller's age"), NUMBER, _controller_age,
         unit=_("years")),
)}


def register_fact(fact: Fact) -> None:
    """Apps to the right of products (applications, later loans and the credit bureau) add
    facts only they can compute — group exposure, overdue counts — from `ready()`."""
    FACTS[fact.code] = fact


def fact_choices() -> list[tuple[str, object]]:
    """Callable choices: facts registered by later apps appear without a migration."""
    return [(code, fact.label) for code, fact in FACTS.items()]
