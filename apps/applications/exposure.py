"""Credit exposure of an enterprise and its group: what the bank has lent and is asked to lend.

- **existing**: the outstanding principal of the group's open loans (借据), as the core
  system's feed reports it. A file booked before the loan book existed (contracted or
  disbursed with no contract record) still stands for its approved amount.
- **approved**: approvals not yet contracted, plus the undrawn part of signed contracts (the
  bank is committed to lend it).
- **requested**: requests in the pipeline.

Measured bank-wide (whoever manages each member): a group's limit binds every branch. The
loans app sits right of this one (CONVENTIONS §1), so its rows are read through the reverse
relations `Application.loans` and `Application.loan_contract`, never imported; the state codes
below are checked against `apps.loans.states` by a test.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, Max, Q, Subquery, Sum, Value
from django.utils.translation import gettext_lazy as _

from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.parties.selectors import enterprise_group_ids, enterprise_group_query

BOOKED = (S.CONTRACTED, S.DISBURSED)
PIPELINE = (S.DRAFT, S.SUBMITTED, S.INVESTIGATING, S.UNDER_REVIEW, S.IN_APPROVAL, S.RETURNED)
# apps.loans.states codes (a test keeps them in step): loans the book still carries, and a
# contract still open for drawing.
OPEN_LOAN_STATES = ("pending", "active", "restructured")
CONTRACT_SIGNED = "signed"


@dataclass(frozen=True)
class Exposure:
    enterprise_ids: frozenset[int]
    existing: Decimal  # booked credit
    approved: Decimal  # approved, not yet contracted
    requested: Decimal  # in the pipeline

    @property
    def total(self) -> Decimal:
        return self.existing + self.approved + self.requested


_SUMS = ("legacy", "contracted", "approved", "requested", "outstanding", "drawn")
# The sums' output fields, made once (a field built per score is ~10 us of Python).
_SUM_FIELDS = (DecimalField(),) * len(_SUMS)


def _sum_query(files) -> dict:
    """The figures of `files` in one statement: the files' own sums over the files with their
    contract (one row each), and their loans' two sums each in one uncorrelated subquery over
    the loans of those files (an InitPlan: run once, not once per file). Was a correlated
    subquery per file for each loan sum: three index probes more for every file of the group,
    paid by every score (a group with a few hundred files in its history made the exposure
    read most of the scoring worker's database time, bench_scoring_worker). Each subquery is
    wrapped in Max to sit in the aggregate: over no file both are NULL, as the sums were."""
    loans = Application._meta.get_field("loans").related_model.objects.filter(
        application__in=files.order_by().values("pk")).order_by()
    return files.aggregate(
        legacy=Sum("amount_approved", filter=Q(state__in=BOOKED, loan_contract__isnull=True)),
        contracted=Sum("loan_contract__amount", filter=Q(loan_contract__state=CONTRACT_SIGNED)),
        approved=Sum("amount_approved", filter=Q(state=S.APPROVED)),
        requested=Sum("amount_requested", filter=Q(state__in=PIPELINE)),
        outstanding=Max(Subquery(_loan_sum(
            loans.filter(state__in=OPEN_LOAN_STATES), "outstanding_principal"))),
        drawn=Max(Subquery(_loan_sum(
            loans.filter(application__loan_contract__state=CONTRACT_SIGNED), "principal"))))


def _loan_sum(loans, column: str):
    """`SELECT SUM(column) FROM loans` as a scalar subquery (no GROUP BY)."""
    return loans.annotate(one=Value(1)).values("one").annotate(s=Sum(column)).values("s")


def _sums(files=None, *, sums: dict | None = None) -> tuple[Decimal, Decimal, Decimal]:
    """Every figure of `files` in one query: the files' own sums beside their loans' sums,
    each file's loans summed in a correlated subquery (so many loans never multiply a file)."""
    zero = Decimal("0")
    if sums is None:
        sums = _sum_query(files)
    undrawn = max((sums["contracted"] or zero) - (sums["drawn"] or zero), zero)
    return ((sums["outstanding"] or zero) + (sums["legacy"] or zero),
            (sums["approved"] or zero) + undrawn, sums["requested"] or zero)


def exposure_of(enterprise_ids) -> Exposure:
    """One query for any set of enterprises: the applications and their contract (one row
    each) with their loans summed per file beside them."""
    existing, approved, requested = _sums(
        Application.objects.filter(enterprise_id__in=enterprise_ids))
    return Exposure(frozenset(enterprise_ids), existing, approved, requested)


def group_exposure(*, enterprise_id: int) -> Exposure:
    """The enterprise with its related group (parties.selectors.enterprise_group_ids)."""
    return exposure_of(enterprise_group_ids(enterprise_id=enterprise_id))


def group_exposure_total(*, enterprise_id: int) -> Decimal:
    """`group_exposure(...).total` in one query: the group is a subquery of the sums (for the
    scoring worker, which needs the figure, not the members)."""
    from apps.core.compiled import run

    return run(group_exposure_total_steps(enterprise_id=enterprise_id))


def group_exposure_total_steps(*, enterprise_id: int | None = None,
                               application_id: int | None = None):
    """`group_exposure_total` as a step of `apps.core.compiled.run_together` (the scoring
    worker sends it with the application's other reads). `application_id` instead of
    `enterprise_id`: the group of that application's enterprise, read in the same statement
    (a subquery), so it can go in the round trip that reads the application."""
    from apps.core.compiled import compiled_query

    # Compiled once per process (the ORM's build of this query cost more than running it).
    # Every column a sum of amounts: Decimal, as the ORM gives it (SQLite returns floats).
    if application_id is not None:
        key, value = "group_exposure_total_of_application", application_id

        def query(marker):
            return _sum_query(Application.objects.filter(
                enterprise_id__in=enterprise_group_query(enterprise_id=Subquery(
                    Application.objects.filter(pk=marker).order_by().values("enterprise_id")[:1]))))
    else:
        key, value = "group_exposure_total", enterprise_id

        def query(marker):
            return _sum_query(Application.objects.filter(
                enterprise_id__in=enterprise_group_query(enterprise_id=marker)))
    (rows,) = yield [compiled_query(key, query, value,
                                    output_fields=_SUM_FIELDS)]
    existing, approved, requested = _sums(sums=dict(zip(_SUMS, rows[0], strict=True)))
    return existing + approved + requested


def group_exposure_fact(enterprise, on: dt.date) -> Decimal:
    """The `group_exposure` fact for entry conditions (e.g. 普惠小微 ≤ CNY 10m, §2.7)."""
    return group_exposure(enterprise_id=enterprise.pk).total


def register_exposure_fact() -> None:
    from apps.products.facts import NUMBER, Fact, register_fact

    register_fact(Fact("group_exposure", _("Group credit exposure, incl. pending requests"),
                       NUMBER, group_exposure_fact, unit="CNY"))
