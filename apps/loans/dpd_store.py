"""Days past due for many loans at once: load, compute (apps.loans.dpd), write back, set-based.

Used by the feed import (the loans an import touched, from their first affected day) and by the
nightly sweep (chunks of open loans, from scratch). The portable path here runs on any database
(SQLite under `make run`): a few queries per 500 loans for the schedule versions in force,
the repayments still standing (reversed ones left out in SQL) and the stored history; the
reference engine per loan; then the history replaced from each changed loan's first changed
day and the loans whose figures changed updated. On PostgreSQL the from-scratch recomputation
takes the array path instead (apps.loans.dpd_pg). Running either twice writes nothing the
second time (idempotent), so the nightly task may be delivered twice.

Overdue amounts and outstanding principal: the core system is the book of record, so a loan
with a balance snapshot (`balance_as_of` set) keeps the figures the core reported; a loan the
core has not reported on yet carries the figures computed from the schedule and repayments.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from apps.loans import dpd
from apps.loans.dpd import DpdPoint
from apps.loans.models import Loan, LoanDpd, RepaymentEvent, ScheduleInstalment
from apps.loans.states import OPEN_LOAN_STATES


@dataclass
class RecomputeResult:
    """What one recomputation changed."""

    loans: int = 0
    loans_changed: int = 0
    points_written: int = 0
    points_deleted: int = 0
    # The loans whose row was updated (PostgreSQL's array path only).
    updated: list[int] = field(default_factory=list)


def fetch_rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Ids per query on the portable path: SQLite allows a few hundred bound parameters at most
# on older builds; PostgreSQL does not mind the extra round trips of a small import.
_BATCH = 500


def _batches(loan_ids: Sequence[int]):
    ids = list(loan_ids)
    for k in range(0, len(ids), _BATCH):
        yield ids[k:k + _BATCH]


def load_instalments(loan_ids: Sequence[int]) -> dict[int, list[dpd.Segment]]:
    """Each loan's schedule versions in force (up to its current one), each from its first
    day, rows as (due date, principal, interest) in fen (`dpd.schedule_segments`)."""
    rows: dict[int, list] = defaultdict(list)
    for batch in _batches(loan_ids):
        for loan_id, version, start, due, principal, interest in (
                ScheduleInstalment.objects
                .filter(loan_id__in=batch, version__lte=F("loan__schedule_version"))
                .values_list("loan_id", "version", "effective_from", "due_date", "principal",
                             "interest")):
            rows[loan_id].append((version, start, due, dpd.to_fen(principal),
                                  dpd.to_fen(interest)))
    return {loan_id: dpd.schedule_segments(r) for loan_id, r in rows.items()}


def load_payments(loan_ids: Sequence[int]) -> dict[int, list[tuple[dt.date, int]]]:
    """Each loan's standing repayments, summed per value date in fen, in date order. A
    reversal cancels the whole repayment from that repayment's own value date, so reversed
    repayments are simply left out."""
    by_day: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for batch in _batches(loan_ids):
        for loan_id, value_date, principal, interest in (
                RepaymentEvent.objects
                .filter(loan_id__in=batch, kind=RepaymentEvent.Kind.REPAYMENT,
                        reversed_by__isnull=True)
                .values_list("loan_id", "value_date", "principal", "interest")):
            days = by_day[loan_id]
            days[value_date] = days.get(value_date, 0) + dpd.to_fen(principal + interest)
    return {loan_id: sorted(days.items()) for loan_id, days in by_day.items()}


def load_history(loan_ids: Sequence[int]) -> dict[int, list[DpdPoint]]:
    """The stored change points of each loan, oldest first."""
    history: dict[int, list[DpdPoint]] = defaultdict(list)
    for batch in _batches(loan_ids):
        for loan_id, as_of, p, i in (
                LoanDpd.objects.filter(loan_id__in=batch).order_by("loan_id", "as_of")
                .values_list("loan_id", "as_of", "dpd_principal", "dpd_interest")):
            history[loan_id].append(DpdPoint(as_of, p, i))
    return history


def dpd_recompute_scratch(*, as_of: dt.date, first_id: int | None = None,
                          last_id: int | None = None,
                          loan_ids: Sequence[int] | None = None,
                          balances: str | None = None) -> RecomputeResult:
    """Recompute from scratch the open loans with ids in [first_id, last_id] (the nightly
    chunk), or the loans `loan_ids` (a large feed batch), and write only what differs from the
    stored history and figures: each history is rewritten from its first changed day. The
    caller holds the loans' row locks.

    PostgreSQL takes the array path (apps.loans.dpd_pg: binary COPY, numpy); any other
    database (SQLite under `make run`) the reference engine per loan. Both give the same
    history and figures (tests/test_dpd_paths.py).
    """
    states = sorted(str(s) for s in OPEN_LOAN_STATES)
    if balances is not None and connection.vendor != "postgresql":
        raise ValueError("Staged balances are applied by the PostgreSQL path only.")
    if connection.vendor == "postgresql":
        from apps.loans import dpd_pg

        return dpd_pg.recompute(as_of=as_of, loan_ids=loan_ids, first_id=first_id,
                                last_id=last_id, states=states, balances=balances)
    if loan_ids is None:
        loan_ids = list(Loan.objects.filter(id__gte=first_id, id__lte=last_id,
                                            state__in=states).values_list("id", flat=True))
    return dpd_recompute(loan_ids=loan_ids, as_of=as_of)


def _first_difference(old: list[DpdPoint], new: list[DpdPoint]) -> dt.date | None:
    """The first day from which the stored points must be replaced (None: nothing differs)."""
    for a, b in zip(old, new, strict=False):
        if a != b:
            return min(a.as_of, b.as_of)
    if len(old) > len(new):
        return old[len(new)].as_of
    if len(new) > len(old):
        return new[len(old)].as_of
    return None


def dpd_recompute(*, loan_ids: Sequence[int], as_of: dt.date | None = None,
                  first_affected: dict[int, dt.date] | None = None) -> RecomputeResult:
    """Recompute days past due and the loans' figures up to `as_of` (default today).

    With `first_affected` ({loan id: day}), each loan keeps its stored points before that day
    and is recomputed from it (the feed's incremental path); without, from scratch (the
    nightly sweep). Either way the stored history ends equal to a recomputation from scratch
    (the property test in tests/test_dpd.py). Call inside the caller's transaction.
    """
    as_of = as_of or timezone.localdate()
    loan_ids = sorted(set(loan_ids))
    result = RecomputeResult(loans=len(loan_ids))
    if not loan_ids:
        return result
    schedules = load_instalments(loan_ids)
    payments = load_payments(loan_ids)
    stored = load_history(loan_ids)
    starts = {}
    if first_affected is not None:
        starts = {pk: (value_date, last) for batch in _batches(loan_ids)
                  for pk, value_date, last in Loan.objects.filter(id__in=batch)
                  .values_list("id", "value_date", "dpd_as_of")}
    delete_from: list[tuple[int, dt.date]] = []
    inserts: list[tuple] = []
    figures: list[tuple] = []
    for loan_id in loan_ids:
        schedule, events, old = schedules.get(loan_id, []), payments.get(loan_id, []), \
            stored.get(loan_id, [])
        if first_affected is not None:
            value_date, last = starts[loan_id]
            # Also from the day after the last run: due dates may have passed since.
            since = min(first_affected.get(loan_id, as_of),
                        last + dpd.ONE_DAY if last else value_date)
            kept = [p for p in old if p.as_of < since]
            fresh, f = dpd.loan_dpd(schedule, events, as_of=as_of, since=since,
                                    before=kept[-1] if kept else None)
            new = kept + fresh
        else:
            new, f = dpd.loan_dpd(schedule, events, as_of=as_of)
        changed_from = _first_difference(old, new)
        if changed_from is not None:
            result.loans_changed += 1
            delete_from.append((loan_id, changed_from))
            inserts += [(loan_id, p.as_of, p.dpd_principal, p.dpd_interest)
                        for p in new if p.as_of >= changed_from]
            result.points_deleted += sum(1 for p in old if p.as_of >= changed_from)
        figures.append((loan_id, f.dpd_principal, f.dpd_interest, f.overdue_principal,
                        f.overdue_interest, f.principal_paid))
    _write(delete_from, inserts, figures, as_of)
    result.points_written = len(inserts)
    return result


def _write(delete_from, inserts, figures, as_of: dt.date) -> None:
    """Replace the history from each changed loan's first changed day and write the figures
    of the loans whose stored figures differ (portable SQL: any database)."""
    with connection.cursor() as cursor:
        if delete_from:
            cursor.executemany("DELETE FROM loans_loandpd WHERE loan_id = %s AND as_of >= %s",
                               delete_from)
        if inserts:
            copy_rows(cursor, "loans_loandpd", ("loan_id", "as_of", "dpd_principal",
                                                "dpd_interest"), inserts)
        updates = _figure_updates(figures, as_of)
        if updates:
            cursor.executemany(
                """UPDATE loans_loan SET updated_at = %s, dpd_principal = %s,
                          dpd_interest = %s, dpd_as_of = %s, overdue_principal = %s,
                          overdue_interest = %s, outstanding_principal = %s
                    WHERE id = %s""", updates)


def _figure_updates(figures, as_of: dt.date) -> list[tuple]:
    """UPDATE parameters for the loans whose figures changed. Reported balances
    (balance_as_of set) stay as the core sent them; computed ones follow the schedule."""
    by_id = {row[0]: row[1:] for row in figures}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    updates = []
    for batch in _batches(sorted(by_id)):
        for (loan_id, principal, balance_as_of, *stored) in Loan.objects.filter(
                id__in=batch).values_list(
                "id", "principal", "balance_as_of", "dpd_principal", "dpd_interest",
                "dpd_as_of", "overdue_principal", "overdue_interest",
                "outstanding_principal"):
            p, i, overdue_p, overdue_i, paid = by_id[loan_id]
            if balance_as_of is None:
                money = (dpd.to_yuan(overdue_p), dpd.to_yuan(overdue_i),
                         max(principal - dpd.to_yuan(paid), Decimal(0)))
            else:
                money = tuple(stored[3:])
            new = (p, i, as_of, *money)
            if new != tuple(stored):
                updates.append((now, *new, loan_id))
    return updates


def copy_rows(cursor, table: str, columns: Sequence[str], rows) -> None:
    """COPY rows into a table (PostgreSQL; psycopg 3), else a plain executemany."""
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    # Table and column names are this module's constants, never input.
    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                       list(rows))
