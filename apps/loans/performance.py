"""Loan outcomes for the apps to the left of the loan book: the product threshold report and
training from the database (they cannot import this app, so `LoansConfig.ready()` registers
these functions with them).

The days-past-due history is stored as change points (`LoanDpd`): from a point on, until the
next one, the first unpaid due date stays the same, so days past due grow by one a day while
positive. The worst figure of a stretch in arrears is therefore reached on its last day: the day
before the next point, or the day the figures were last computed (`Loan.dpd_as_of`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from apps.investigations.policy import PolicyResolver
from apps.loans.models import Loan, LoanDpd
from apps.loans.states import LoanState

# The 2023 classification rules' non-performing floor (次级: more than N days past due); the
# value is policy data (`monitoring` seeds it with its citation), never a constant here.
NPL_FLOOR_KEY = "classification.floor.substandard.dpd_gt"
# Ever restructured or written off counts as bad whatever the days past due were.
BAD_STATES = frozenset({LoanState.RESTRUCTURED, LoanState.WRITTEN_OFF})

Observation = tuple[dt.date, int]


def _stretches(points: list[tuple[dt.date, int]], last_day: dt.date) -> list[Observation]:
    """(day, days past due) at the end of each stretch in arrears, plus the last day seen."""
    observations = []
    for index, (as_of, dpd) in enumerate(points):
        end = points[index + 1][0] - dt.timedelta(days=1) if index + 1 < len(points) else last_day
        if end < as_of:
            continue
        observations.append((end, dpd + (end - as_of).days if dpd else 0))
    return observations


def observations_by_loan(loan_ids: Iterable[int], *,
                         today: dt.date | None = None) -> dict[int, list[Observation]]:
    """{loan id: [(day, days past due)]}: each stretch's worst day and the last day computed.

    Two queries for any number of loans; the history is read in (loan, day) order and
    streamed, so memory holds one loan's points at a time plus the answer.
    """
    today = today or timezone.localdate()
    ids = loan_ids if isinstance(loan_ids, QuerySet) else list(loan_ids)
    last_seen = {pk: (as_of or today) for pk, as_of in
                 Loan.objects.filter(pk__in=ids).values_list("pk", "dpd_as_of")}
    answer: dict[int, list[Observation]] = {}
    current, points = None, []
    rows = (LoanDpd.objects.filter(loan_id__in=ids).order_by("loan_id", "as_of")
            .values_list("loan_id", "as_of", "dpd_principal", "dpd_interest")
            .iterator(chunk_size=5000))
    for loan_id, as_of, principal, interest in rows:
        if loan_id != current:
            if current is not None:
                answer[current] = _stretches(points, last_seen.get(current, today))
            current, points = loan_id, []
        points.append((as_of, max(principal, interest)))
    if current is not None:
        answer[current] = _stretches(points, last_seen.get(current, today))
    for loan_id, last_day in last_seen.items():
        answer.setdefault(loan_id, [(last_day, 0)])
    return answer


def performance_by_enterprise(enterprise_ids: Iterable[int]) -> dict[int, dict]:
    """The threshold report's contract (`apps.products.report.performance_by_enterprise`):
    {enterprise id: {"loans": n, "bad": n}} for enterprises with at least one loan, where bad
    means ever past the non-performing floor, restructured or written off. `enterprise_ids`:
    ids, or a queryset of them (then read as a subquery, and so are their loans)."""
    ids = enterprise_ids if isinstance(enterprise_ids, QuerySet) else list(enterprise_ids)
    loans = list(Loan.objects.filter(enterprise_id__in=ids)
                 .values_list("pk", "enterprise_id", "state"))
    if not loans:
        return {}
    floor = PolicyResolver()(NPL_FLOOR_KEY)
    # A queryset of enterprises: their loans as a subquery too, not a list of every loan id.
    loan_ids = (Loan.objects.filter(enterprise_id__in=ids).values_list("pk", flat=True)
                if isinstance(ids, QuerySet) else [pk for pk, _e, _s in loans])
    worst = ({pk: max(dpd for _day, dpd in seen)
              for pk, seen in observations_by_loan(loan_ids).items()}
             if floor is not None else {})
    answer: dict[int, dict] = defaultdict(lambda: {"loans": 0, "bad": 0})
    for pk, enterprise_id, state in loans:
        answer[enterprise_id]["loans"] += 1
        if state in BAD_STATES or (floor is not None and worst.get(pk, 0) > floor):
            answer[enterprise_id]["bad"] += 1
    return dict(answer)


def observations_by_application(application_ids: Iterable[int]) -> tuple[
        dict[int, dt.date], dict[int, list[Observation]]]:
    """For training labels: each application's first value date and the (day, days past due)
    observations of all its loans (a file drawn in tranches is bad if any tranche is)."""
    loans = list(Loan.objects.filter(application_id__in=list(application_ids))
                 .exclude(state=LoanState.PENDING)
                 .values_list("pk", "application_id", "value_date"))
    paid_on: dict[int, dt.date] = {}
    for _pk, application_id, value_date in loans:
        paid_on[application_id] = min(value_date, paid_on.get(application_id, value_date))
    seen: dict[int, list[Observation]] = defaultdict(list)
    by_loan = observations_by_loan([pk for pk, _a, _v in loans])
    for pk, application_id, _value_date in loans:
        seen[application_id] += by_loan.get(pk, [])
    return paid_on, dict(seen)
