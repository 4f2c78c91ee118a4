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

**Restructuring.** A restructuring writes a new schedule version in force from its day
(`effective_from`); the old version stays for the record. On any day DPD is counted against
the version in force that day, with the repayments from that version's first day on: the
arrears a restructuring capitalises into the new schedule are cured from its day (the loan is
current against the new schedule until it misses an instalment of it), and the history before
its day is what the old schedule gave. A back-dated repayment before the restructuring day
changes only the history before it. A version superseded by a later one in force on or before
its own day is never in force; the first version in force covers every day before it.

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
    version: int = 1
    effective_from: dt.date | None = None  # None: in force from the start


Row = tuple[dt.date, int, int]  # (due date, principal, interest) in fen


@dataclass(frozen=True, slots=True)
class Segment:
    """A schedule version and the first day it is in force (None: from the start); in force
    until the next segment's first day."""

    start: dt.date | None
    rows: Sequence[Row]


def schedule_segments(rows: Iterable[tuple[int, dt.date | None, dt.date, int, int]]
                      ) -> list[Segment]:
    """The versions in force, oldest first, from (version, effective from, due date,
    principal, interest) rows in any order (effective from None: from the start). A later
    version in force on or before an earlier one's first day supersedes it wholly; the first
    segment left starts at None (it covers every day before the next)."""
    by_version: dict[int, tuple[dt.date | None, list[Row]]] = {}
    for version, start, due, principal, interest in rows:
        known = by_version.setdefault(version, (start, []))
        if start is not None and (known[0] is None or start < known[0]):
            known = by_version[version] = (start, known[1])
        known[1].append((due, principal, interest))
    segments: list[Segment] = []
    for version in sorted(by_version):
        start, version_rows = by_version[version]
        while segments and (start is None or (segments[-1].start is not None
                                              and segments[-1].start >= start)):
            segments.pop()
        segments.append(Segment(start, sorted(version_rows)))
    if segments:
        segments[0] = Segment(None, segments[0].rows)
    return segments


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


def _as_segments(instalments: Sequence[Instalment]) -> list[Segment]:
    return schedule_segments((i.version, i.effective_from, i.due_date, i.principal, i.interest)
                             for i in instalments)


def loan_dpd(schedule: Sequence[Row] | Sequence[Segment],
             payments: Sequence[tuple[dt.date, int]], *, as_of: dt.date,
             since: dt.date | None = None,
             before: DpdPoint | None = None) -> tuple[list[DpdPoint], Figures]:
    """Change points (all, or from `since` given `before`) and the figures at `as_of`, in one
    pass. `schedule`: the segments in force (`schedule_segments`), or for a loan never
    restructured simply its (due date, principal, interest) rows in due-date order;
    `payments`: (value date, amount) of the standing repayments in value-date order; amounts
    in fen.

    The arrears can only change on a payment's value date, the day after a due date or the
    first day of a schedule version, so only those days are looked at.

    `Figures.principal_paid` is the loan's principal repaid as the schedule in force sees it:
    what the first version scheduled less what the version in force schedules, plus what was
    paid of the latter, so that principal disbursed less it is the principal outstanding.
    """
    segments = list(schedule) if schedule and isinstance(schedule[0], Segment) \
        else [Segment(None, schedule)]
    waterfalls = [_Waterfall(s.rows) for s in segments]
    starts = [s.start for s in segments]
    pay_days = [d for d, _amount in payments]
    cumulative = [0]
    for _day, amount in payments:
        cumulative.append(cumulative[-1] + amount)

    def paid_by(day: dt.date) -> int:
        return cumulative[bisect.bisect_right(pay_days, day)]

    def in_force(day: dt.date) -> int:
        k = len(starts) - 1
        while k > 0 and starts[k] > day:
            k -= 1
        return k

    def paid_in(k: int, day: dt.date) -> int:
        """Repayments counted against segment k by the end of `day`: those from its start."""
        return paid_by(day) - (paid_by(starts[k] - ONE_DAY) if k else 0)

    days = set(pay_days)
    for w in waterfalls:
        days.update(d + ONE_DAY for d in w.due)
    days.update(starts[1:])
    if since is not None:
        if before is not None and before.as_of >= since:
            raise ValueError("`before` must be earlier than `since`")
        days = [d for d in days if since <= d <= as_of]
    else:
        days = [d for d in days if d <= as_of]
    days.sort()
    previous = (before.principal_since, before.interest_since) if before else (None, None)
    points = []
    for day in days:
        k = in_force(day)
        state = waterfalls[k].state(paid_in(k, day), day)
        if state != previous:
            points.append(_point(day, state))
            previous = state
    k = in_force(as_of)
    point = _point(as_of, waterfalls[k].state(paid_in(k, as_of), as_of))
    overdue_p, overdue_i, paid_p, paid_i = waterfalls[k].overdue(paid_in(k, as_of), as_of)
    if k:
        paid_p += _principal_total(segments[0]) - _principal_total(segments[k])
    return points, Figures(as_of, point.dpd_principal, point.dpd_interest, overdue_p,
                           overdue_i, paid_p, paid_i)


def _principal_total(segment: Segment) -> int:
    return sum(principal for _due, principal, _interest in segment.rows)


def dpd_history(instalments: Sequence[Instalment], events: Iterable[Event], *,
                as_of: dt.date, since: dt.date | None = None,
                before: DpdPoint | None = None) -> list[DpdPoint]:
    """Change points of days past due up to and including `as_of`.

    From scratch when `since` is None. Otherwise only the points on or after `since`, given
    `before`, the last point earlier than `since` (None when there is none): the incremental
    path, whose result joined to the kept earlier points equals the full recomputation.
    """
    return loan_dpd(_as_segments(instalments), effective_payments(events), as_of=as_of,
                    since=since, before=before)[0]


def figures(instalments: Sequence[Instalment], events: Iterable[Event], *,
            as_of: dt.date) -> Figures:
    """DPD and overdue amounts at the end of `as_of` (what the loan row carries)."""
    return loan_dpd(_as_segments(instalments), effective_payments(events), as_of=as_of,
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
