"""Days past due from a loan's schedule and the core system's repayment events (pure functions).

No database here: services and the nightly job load instalments and events, call these
functions and write what they return. That keeps one definition of the figures for the
feed (incremental, from the first affected day) and the nightly sweep (from scratch), and lets
a property test hold them equal for any order of arrival.

**Allocation rule.** A repayment is pooled and paid into the schedule's obligations in this
order: the oldest instalment first, and within an instalment interest before principal.
This is the order of 《中华人民共和国民法典》 art. 560 (among debts of the same kind, the one
due first is paid first) and art. 561 (costs, then interest, then principal, unless agreed
otherwise), and of Apache Fineract's default transaction processing strategy
("mifos-standard-strategy": penalties, fees, interest, principal, oldest instalment first).
Money paid ahead of a due date goes to the next obligation in the same order (prepayment).

Because every payment goes to the first obligation not yet covered, what is paid on any day is
a function of the *cumulative* amount received by that day alone: obligation k is covered
once the cumulative amount reaches the sum of obligations 1..k. Back-dated repayments and
reversals therefore change the figures only from their value date onwards, and the figures
never depend on the order events arrived in.

**Days past due** (domain reference §0.3): counted from the first unpaid due date, principal
and interest separately. A payment on the due date is on time (0); the day after an unpaid
due date is 1 day past due.

**History as change points.** A `DpdPoint` is written on the days the arrears change: they
start, end, or their first unpaid due date moves. Between two points the first unpaid due
date stays the same, so DPD on a later day is the point's figure plus the days since the point
when it is positive, and 0 when it is 0 (`dpd_on`). One row a day for every loan in arrears
would make the table grow by the book's arrears every night for no information.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

ONE_DAY = dt.timedelta(days=1)


def to_fen(amount) -> int:
    """Yuan (Decimal, int or digit string) to integer fen: arithmetic here is exact integers."""
    return int((Decimal(amount) * 100).to_integral_value())


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class Instalment:
    """One due date of the schedule in force, amounts in fen."""

    due_date: dt.date
    principal: int
    interest: int


@dataclass(frozen=True, slots=True)
class Event:
    """A repayment (amounts in fen) or a reversal naming the repayment it cancels."""

    record_id: str
    value_date: dt.date
    principal: int = 0
    interest: int = 0
    reverses: str | None = None

    @property
    def amount(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class DpdPoint:
    """From `as_of` on (until the next point) the arrears are as stated here."""

    as_of: dt.date
    dpd_principal: int
    dpd_interest: int

    @property
    def principal_since(self) -> dt.date | None:
        """The first unpaid principal due date this point implies (None: not in arrears)."""
        return self.as_of - dt.timedelta(days=self.dpd_principal) if self.dpd_principal else None

    @property
    def interest_since(self) -> dt.date | None:
        return self.as_of - dt.timedelta(days=self.dpd_interest) if self.dpd_interest else None


@dataclass(frozen=True, slots=True)
class Figures:
    """A loan's position at the end of `as_of` (amounts in fen)."""

    as_of: dt.date
    dpd_principal: int
    dpd_interest: int
    overdue_principal: int
    overdue_interest: int
    principal_paid: int
    interest_paid: int


def effective_payments(events: Iterable[Event]) -> list[tuple[dt.date, int]]:
    """(value date, amount) of every repayment not cancelled by a reversal, by value date.

    A reversal cancels the repayment it names wholly, from that repayment's value date: the
    money never counted. Reversals of records not in `events` are ignored here (the feed
    refuses them before they are stored).
    """
    events = list(events)
    reversed_ids = {e.reverses for e in events if e.reverses}
    return sorted((e.value_date, e.amount) for e in events
                  if e.reverses is None and e.record_id not in reversed_ids)


class _Waterfall:
    """The schedule's obligations in allocation order with their running totals."""

    __slots__ = ("due", "ends", "is_interest", "amounts", "next_principal", "next_interest")

    def __init__(self, instalments: Iterable[tuple[dt.date, int, int]]):
        """`instalments`: (due date, principal, interest) in due-date order."""
        self.due, self.ends, self.is_interest, self.amounts = [], [], [], []
        running = 0
        for due, principal, interest in instalments:
            for amount, is_interest in ((interest, True), (principal, False)):
                if amount <= 0:  # nothing owed: never "unpaid"
                    continue
                running += amount
                self.due.append(due)
                self.ends.append(running)
                self.is_interest.append(is_interest)
                self.amounts.append(amount)
        # next_<kind>[k]: due date of the first obligation of that kind at index k or later.
        n = len(self.due)
        self.next_principal, self.next_interest = [None] * (n + 1), [None] * (n + 1)
        for k in range(n - 1, -1, -1):
            self.next_principal[k] = self.due[k] if not self.is_interest[k] \
                else self.next_principal[k + 1]
            self.next_interest[k] = self.due[k] if self.is_interest[k] \
                else self.next_interest[k + 1]

    def state(self, paid: int, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """First unpaid (principal, interest) due dates already past on `day`: obligations
        before the first one `paid` does not cover are covered (bisect on running totals)."""
        k = bisect.bisect_right(self.ends, paid)
        p, i = self.next_principal[k], self.next_interest[k]
        return (p if p is not None and p < day else None, i if i is not None and i < day else None)

    def overdue(self, paid: int, day: dt.date) -> tuple[int, int, int, int]:
        """(overdue principal, overdue interest, principal paid, interest paid) at end of day."""
        overdue_p = overdue_i = paid_p = paid_i = 0
        start = 0
        for due, end, interest, amount in zip(self.due, self.ends, self.is_interest,
                                              self.amounts, strict=True):
            covered = min(max(paid - start, 0), amount)
            start = end
            if interest:
                paid_i += covered
            else:
                paid_p += covered
            if due < day:
                if interest:
                    overdue_i += amount - covered
                else:
                    overdue_p += amount - covered
        # Money beyond the whole schedule (an overpayment) counts as principal repaid.
        paid_p += max(paid - start, 0)
        return overdue_p, overdue_i, paid_p, paid_i


def _point(day: dt.date, state) -> DpdPoint:
    p, i = state
    return DpdPoint(day, (day - p).days if p else 0, (day - i).days if i else 0)


def _as_tuples(instalments: Sequence[Instalment]) -> list[tuple[dt.date, int, int]]:
    return sorted((i.due_date, i.principal, i.interest) for i in instalments)


def loan_dpd(schedule: Sequence[tuple[dt.date, int, int]],
             payments: Sequence[tuple[dt.date, int]], *, as_of: dt.date,
             since: dt.date | None = None,
             before: DpdPoint | None = None) -> tuple[list[DpdPoint], Figures]:
    """Change points (all, or from `since` given `before`) and the figures at `as_of`, in one
    pass. `schedule`: (due date, principal, interest) in due-date order; `payments`: (value
    date, amount) of the standing repayments in value-date order; amounts in fen.

    The arrears can only change on a payment's value date or the day after a due date, so
    only those days are looked at.
    """
    waterfall = _Waterfall(schedule)
    days = {d for d, _amount in payments}
    days.update(d + ONE_DAY for d in waterfall.due)
    if since is not None:
        if before is not None and before.as_of >= since:
            raise ValueError("`before` must be earlier than `since`")
        days = [d for d in days if since <= d <= as_of]
    else:
        days = [d for d in days if d <= as_of]
    days.sort()
    previous = (before.principal_since, before.interest_since) if before else (None, None)
    points, paid, n, count = [], 0, 0, len(payments)
    for day in days:
        while n < count and payments[n][0] <= day:
            paid += payments[n][1]
            n += 1
        state = waterfall.state(paid, day)
        if state != previous:
            points.append(_point(day, state))
            previous = state
    while n < count and payments[n][0] <= as_of:
        paid += payments[n][1]
        n += 1
    point = _point(as_of, waterfall.state(paid, as_of))
    overdue_p, overdue_i, paid_p, paid_i = waterfall.overdue(paid, as_of)
    return points, Figures(as_of, point.dpd_principal, point.dpd_interest, overdue_p,
                           overdue_i, paid_p, paid_i)


def dpd_history(instalments: Sequence[Instalment], events: Iterable[Event], *,
                as_of: dt.date, since: dt.date | None = None,
                before: DpdPoint | None = None) -> list[DpdPoint]:
    """Change points of days past due up to and including `as_of`.

    From scratch when `since` is None. Otherwise only the points on or after `since`, given
    `before`, the last point earlier than `since` (None when there is none): the incremental
    path, whose result joined to the kept earlier points equals the full recomputation.
    """
    return loan_dpd(_as_tuples(instalments), effective_payments(events), as_of=as_of,
                    since=since, before=before)[0]


def figures(instalments: Sequence[Instalment], events: Iterable[Event], *,
            as_of: dt.date) -> Figures:
    """DPD and overdue amounts at the end of `as_of` (what the loan row carries)."""
    return loan_dpd(_as_tuples(instalments), effective_payments(events), as_of=as_of,
                    since=as_of + ONE_DAY)[1]


def dpd_on(history: Sequence[DpdPoint], day: dt.date) -> tuple[int, int]:
    """(principal, interest) days past due on `day` from change points (0 before the first)."""
    k = bisect.bisect_right([p.as_of for p in history], day)
    if k == 0:
        return 0, 0
    point = history[k - 1]
    gone = (day - point.as_of).days
    return (point.dpd_principal + gone if point.dpd_principal else 0,
            point.dpd_interest + gone if point.dpd_interest else 0)


def recompute_from(history: Sequence[DpdPoint], instalments: Sequence[Instalment],
                   events: Iterable[Event], *, first_affected: dt.date,
                   as_of: dt.date) -> tuple[list[DpdPoint], list[DpdPoint]]:
    """The incremental path: keep the points before `first_affected`, recompute the rest.

    Returns (kept points, new points from `first_affected` on); the stored history becomes
    kept + new. `first_affected` is the earliest value date an arriving event touches (for a
    reversal, the reversed repayment's), or the day after the last computation.
    """
    kept = [p for p in history if p.as_of < first_affected]
    fresh = dpd_history(instalments, events, as_of=as_of, since=first_affected,
                        before=kept[-1] if kept else None)
    return kept, fresh
