"""Credit exposure of an enterprise and its group: what the bank has lent and is asked to lend.

Until the loans app tracks outstanding balances, a contracted or disbursed application stands
for its approved amount, an approval not yet contracted for its approved amount, and a request
in the pipeline for its requested amount. Measured bank-wide (whoever manages each member):
a group's limit binds every branch.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.parties.selectors import enterprise_group_ids

BOOKED = (S.CONTRACTED, S.DISBURSED)
PIPELINE = (S.DRAFT, S.SUBMITTED, S.INVESTIGATING, S.UNDER_REVIEW, S.IN_APPROVAL, S.RETURNED)


@dataclass(frozen=True)
class Exposure:
    enterprise_ids: frozenset[int]
    existing: Decimal  # booked credit
    approved: Decimal  # approved, not yet contracted
    requested: Decimal  # in the pipeline

    @property
    def total(self) -> Decimal:
        return self.existing + self.approved + self.requested


def exposure_of(enterprise_ids) -> Exposure:
    """One query for any set of enterprises."""
    zero = Decimal("0")
    sums = Application.objects.filter(enterprise_id__in=enterprise_ids).aggregate(
        existing=Sum("amount_approved", filter=Q(state__in=BOOKED)),
        approved=Sum("amount_approved", filter=Q(state=S.APPROVED)),
        requested=Sum("amount_requested", filter=Q(state__in=PIPELINE)))
    return Exposure(frozenset(enterprise_ids), sums["existing"] or zero,
                    sums["approved"] or zero, sums["requested"] or zero)


def group_exposure(*, enterprise_id: int) -> Exposure:
    """The enterprise with its related group (parties.selectors.enterprise_group_ids)."""
    return exposure_of(enterprise_group_ids(enterprise_id=enterprise_id))


def group_exposure_fact(enterprise, on: dt.date) -> Decimal:
    """The `group_exposure` fact for entry conditions (e.g. 普惠小微 ≤ CNY 10m, §2.7)."""
    return group_exposure(enterprise_id=enterprise.pk).total


def register_exposure_fact() -> None:
    from apps.products.facts import NUMBER, Fact, register_fact

    register_fact(Fact("group_exposure", _("Group credit exposure, incl. pending requests"),
                       NUMBER, group_exposure_fact, unit="CNY"))
