"""Days past due for many loans at once: load, compute (apps.loans.dpd), write back, set-based.

Used by the feed import (the loans an import touched, from their first affected day) and by the
nightly sweep (chunks of open loans, from scratch). Per chunk of loans: one query for the
schedule instalments in force, one for the repayments still standing (reversed ones are left
out in SQL), one for the stored history; then one DELETE of the history from the first
changed day, one COPY of the new points and one UPDATE of the loans' figures. Running it twice
writes nothing the second time (idempotent), so the nightly task may be delivered twice.

Overdue amounts and outstanding principal: the core system is the book of record, so a loan
with a balance snapshot (`balance_as_of` set) keeps the figures the core reported; a loan the
core has not reported on yet carries the figures computed from the schedule and repayments.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from apps.loans import dpd
from apps.loans.dpd import DpdPoint, Event, Instalment


@dataclass
class RecomputeResult:
    """What one recomputation changed."""

    loans: int = 0
    loans_changed: int = 0
    points_written: int = 0
    points_deleted: int = 0


def fetch_rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def load_instalments(loan_ids: Sequence[int]) -> dict[int, list[Instalment]]:
    """Each loan's instalments in its current schedule version, amounts in fen (one query)."""
    schedules: dict[int, list[Instalment]] = defaultdict(list)
    for loan_id, due, principal, interest in fetch_rows(
            """SELECT i.loan_id, i.due_date, (i.principal * 100)::bigint,
                      (i.interest * 100)::bigint
                 FROM loans_scheduleinstalment i
                 JOIN loans_loan l ON l.id = i.loan_id AND l.schedule_version = i.version
                WHERE i.loan_id = ANY(%s)
                ORDER BY i.loan_id, i.due_date, i.number""", [list(loan_ids)]):
        schedules[loan_id].append(Instalment(due, principal, interest))
    return schedules


def load_payments(loan_ids: Sequence[int]) -> dict[int, list[Event]]:
    """Each loan's repayments not cancelled by a reversal (one query; a reversal cancels the
    whole repayment from its own value date, so only the standing ones matter)."""
    payments: dict[int, list[Event]] = defaultdict(list)
    for loan_id, pk, value_date, principal, interest in fetch_rows(
            """SELECT e.loan_id, e.id, e.value_date, (e.principal * 100)::bigint,
                      (e.interest * 100)::bigint
                 FROM loans_repaymentevent e
                WHERE e.loan_id = ANY(%s) AND e.kind = 'repayment'
                  AND NOT EXISTS (SELECT 1 FROM loans_repaymentevent r
                                   WHERE r.reverses_id = e.id)""", [list(loan_ids)]):
        payments[loan_id].append(Event(pk, value_date, principal, interest))
    return payments


def load_history(loan_ids: Sequence[int]) -> dict[int, list[DpdPoint]]:
    """The stored change points of each loan, oldest first (one query)."""
    history: dict[int, list[DpdPoint]] = defaultdict(list)
    for loan_id, as_of, p, i in fetch_rows(
            """SELECT loan_id, as_of, dpd_principal, dpd_interest FROM loans_loandpd
                WHERE loan_id = ANY(%s) ORDER BY loan_id, as_of""", [list(loan_ids)]):
        history[loan_id].append(DpdPoint(as_of, p, i))
    return history


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
        starts = {pk: (value_date, last) for pk, value_date, last in fetch_rows(
            "SELECT id, value_date, dpd_as_of FROM loans_loan WHERE id = ANY(%s)", [loan_ids])}
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
            kept, fresh = dpd.recompute_from(old, schedule, events, first_affected=since,
                                             as_of=as_of)
            new = kept + fresh
        else:
            new = dpd.dpd_history(schedule, events, as_of=as_of)
        changed_from = _first_difference(old, new)
        if changed_from is not None:
            result.loans_changed += 1
            delete_from.append((loan_id, changed_from))
            inserts += [(loan_id, p.as_of, p.dpd_principal, p.dpd_interest)
                        for p in new if p.as_of >= changed_from]
            result.points_deleted += sum(1 for p in old if p.as_of >= changed_from)
        f = dpd.figures(schedule, events, as_of=as_of)
        figures.append((loan_id, f.dpd_principal, f.dpd_interest, f.overdue_principal,
                        f.overdue_interest, f.principal_paid))
    _write(delete_from, inserts, figures, as_of)
    result.points_written = len(inserts)
    return result


def _write(delete_from, inserts, figures, as_of: dt.date) -> None:
    with connection.cursor() as cursor:
        if delete_from:
            cursor.execute(
                """DELETE FROM loans_loandpd d
                    USING unnest(%s::bigint[], %s::date[]) AS x(loan_id, since)
                    WHERE d.loan_id = x.loan_id AND d.as_of >= x.since""",
                [[loan for loan, _ in delete_from], [since for _, since in delete_from]])
        if inserts:
            copy_rows(cursor, "loans_loandpd", ("loan_id", "as_of", "dpd_principal",
                                                "dpd_interest"), inserts)
        # One UPDATE for the chunk; reported balances (balance_as_of set) stay as the core
        # sent them, computed ones replace what the schedule and repayments say now.
        columns = list(zip(*figures, strict=True))
        cursor.execute(
            """UPDATE loans_loan l
                  SET updated_at = now(), dpd_principal = x.p, dpd_interest = x.i, dpd_as_of = %s,
                      overdue_principal = CASE WHEN l.balance_as_of IS NULL
                                               THEN x.op / 100.0 ELSE l.overdue_principal END,
                      overdue_interest = CASE WHEN l.balance_as_of IS NULL
                                              THEN x.oi / 100.0 ELSE l.overdue_interest END,
                      outstanding_principal = CASE WHEN l.balance_as_of IS NULL
                                   THEN GREATEST(l.principal - x.paid / 100.0, 0)
                                   ELSE l.outstanding_principal END
                 FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::bigint[], %s::bigint[],
                             %s::bigint[]) AS x(id, p, i, op, oi, paid)
                WHERE l.id = x.id
                  AND ((l.dpd_principal, l.dpd_interest, l.dpd_as_of)
                       IS DISTINCT FROM (x.p, x.i, %s::date)
                       OR l.balance_as_of IS NULL
                          AND (l.overdue_principal, l.overdue_interest, l.outstanding_principal)
                              IS DISTINCT FROM (x.op / 100.0, x.oi / 100.0,
                                                GREATEST(l.principal - x.paid / 100.0, 0)))""",
            [as_of, *[list(c) for c in columns], as_of])


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
