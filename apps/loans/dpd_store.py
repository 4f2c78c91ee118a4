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
from apps.loans.dpd import DpdPoint
from apps.loans.states import OPEN_LOAN_STATES


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


def load_instalments(loan_ids: Sequence[int]) -> dict[int, list[tuple[dt.date, int, int]]]:
    """Each loan's instalments in its current schedule version as (due date, principal,
    interest) in fen, in due-date order (one query)."""
    schedules: dict[int, list] = defaultdict(list)
    for loan_id, due, principal, interest in fetch_rows(
            """SELECT i.loan_id, i.due_date, (i.principal * 100)::bigint,
                      (i.interest * 100)::bigint
                 FROM loans_scheduleinstalment i
                 JOIN loans_loan l ON l.id = i.loan_id AND l.schedule_version = i.version
                WHERE i.loan_id = ANY(%s)
                ORDER BY i.loan_id, i.due_date, i.number""", [list(loan_ids)]):
        schedules[loan_id].append((due, principal, interest))
    return schedules


def load_payments(loan_ids: Sequence[int]) -> dict[int, list[tuple[dt.date, int]]]:
    """Each loan's standing repayments, summed per value date in fen, in date order (one
    query). A reversal cancels the whole repayment from that repayment's own value date, so
    reversed repayments are simply left out."""
    payments: dict[int, list] = defaultdict(list)
    for loan_id, value_date, amount in fetch_rows(
            """SELECT e.loan_id, e.value_date, SUM((e.principal + e.interest) * 100)::bigint
                 FROM loans_repaymentevent e
                WHERE e.loan_id = ANY(%s) AND e.kind = 'repayment'
                  AND NOT EXISTS (SELECT 1 FROM loans_repaymentevent r
                                   WHERE r.reverses_id = e.id)
                GROUP BY e.loan_id, e.value_date
                ORDER BY e.loan_id, e.value_date""", [list(loan_ids)]):
        payments[loan_id].append((value_date, amount))
    return payments


def load_history(loan_ids: Sequence[int]) -> dict[int, list[DpdPoint]]:
    """The stored change points of each loan, oldest first (one query)."""
    history: dict[int, list[DpdPoint]] = defaultdict(list)
    for loan_id, as_of, p, i in fetch_rows(
            """SELECT loan_id, as_of, dpd_principal, dpd_interest FROM loans_loandpd
                WHERE loan_id = ANY(%s) ORDER BY loan_id, as_of""", [list(loan_ids)]):
        history[loan_id].append(DpdPoint(as_of, p, i))
    return history


_ORDINAL = "- DATE '0001-01-01' + 1"  # SQL date → Python date.toordinal()


def fetch_int_columns(sql: str, params, width: int):
    """Columns of a query whose every column is bigint, as numpy arrays sorted by all columns.

    PostgreSQL packs the rows into one bytea (`int8send`, big-endian, in `string_agg`), so
    Python receives one value and numpy reads it in C: no Python object per row, which
    otherwise costs more than the whole computation.
    """
    import numpy as np

    names = [f"c{k}" for k in range(width)]
    packed = " || ".join(f"int8send(q.{n})" for n in names)
    rows = fetch_rows(f"SELECT string_agg({packed}, ''::bytea ORDER BY "  # noqa: S608
                      f"{', '.join('q.' + n for n in names)}) "
                      f"FROM ({sql}) AS q({', '.join(names)})", params)
    data = bytes(rows[0][0] or b"")
    table = np.frombuffer(data, dtype=">i8").astype(np.int64).reshape(-1, width)
    return tuple(table[:, k].copy() for k in range(width))


def dpd_recompute_scratch(*, as_of: dt.date, first_id: int | None = None,
                          last_id: int | None = None,
                          loan_ids: Sequence[int] | None = None) -> RecomputeResult:
    """Recompute from scratch in arrays (apps.loans.dpd_batch) the open loans with ids in
    [first_id, last_id] (the nightly chunk), or the loans `loan_ids` (a large feed batch), and
    write only what differs from the stored history and figures: the history is rewritten
    from each loan's first changed day. The caller holds the loans' row locks."""
    import numpy as np

    from apps.loans.dpd_batch import chunk_dpd

    if loan_ids is not None:
        # Same shape of condition as the range, so the queries below serve both.
        scope = [0, 2**62, sorted({int(i) for i in loan_ids})]
        where = "l.id BETWEEN %s AND %s AND l.id = ANY(%s)"
    else:
        scope = [first_id, last_id, sorted(str(s) for s in OPEN_LOAN_STATES)]
        where = "l.id BETWEEN %s AND %s AND l.state = ANY(%s)"
    (ids,) = fetch_int_columns(f"SELECT l.id FROM loans_loan l WHERE {where}",  # noqa: S608
                               scope, 1)
    result = RecomputeResult(loans=len(ids))
    if not len(ids):
        return result
    schedule = fetch_int_columns(f"""
        SELECT i.loan_id, (i.due_date {_ORDINAL})::bigint, (i.principal * 100)::bigint,
               (i.interest * 100)::bigint
          FROM loans_scheduleinstalment i
          JOIN loans_loan l ON l.id = i.loan_id AND l.schedule_version = i.version
         WHERE {where}
""", scope, 4)  # noqa: S608 - constant
    payments = fetch_int_columns(f"""
        SELECT e.loan_id, (e.value_date {_ORDINAL})::bigint,
               SUM((e.principal + e.interest) * 100)::bigint
          FROM loans_repaymentevent e JOIN loans_loan l ON l.id = e.loan_id
         WHERE {where}
           AND e.kind = 'repayment' AND e.value_date <= %s
           AND NOT EXISTS (SELECT 1 FROM loans_repaymentevent r WHERE r.reverses_id = e.id)
         GROUP BY e.loan_id, e.value_date""", [*scope, as_of], 3)  # noqa: S608 - constant
    points, figures = chunk_dpd(loans=ids, schedule=schedule, payments=payments, as_of=as_of)
    old_columns = fetch_int_columns(f"""
        SELECT d.loan_id, (d.as_of {_ORDINAL})::bigint, d.dpd_principal::bigint,
               d.dpd_interest::bigint
          FROM loans_loandpd d JOIN loans_loan l ON l.id = d.loan_id
         WHERE {where}""", scope, 4)  # noqa: S608
    # Points come sorted by loan and day from both sides: the nightly rerun's usual case,
    # nothing changed, is one array comparison.
    if len(points[0]) == len(old_columns[0]) and all(
            np.array_equal(a, b) for a, b in zip(points, old_columns, strict=True)):
        new = old = set()
    else:
        new = set(zip(*(column.tolist() for column in points), strict=True))
        old = set(zip(*(column.tolist() for column in old_columns), strict=True))
    # A loan's history changes from the earliest point in one list and not the other.
    changed_from: dict[int, int] = {}
    for loan_id, day, _p, _i in new ^ old:
        changed_from[loan_id] = min(day, changed_from.get(loan_id, day))
    inserts = [(loan_id, dt.date.fromordinal(day), p, i) for loan_id, day, p, i in new
               if loan_id in changed_from and day >= changed_from[loan_id]]
    result.loans_changed = len(changed_from)
    result.points_written = len(inserts)
    result.points_deleted = sum(1 for loan_id, day, _p, _i in old
                                if loan_id in changed_from and day >= changed_from[loan_id])
    delete_from = [(loan_id, dt.date.fromordinal(day)) for loan_id, day in changed_from.items()]
    columns = [ids, *figures]
    _write(delete_from, sorted(inserts),
           list(zip(*(np.asarray(c).tolist() for c in columns), strict=True)), as_of)
    return result


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
        # One UPDATE for the chunk, from a temporary table filled by COPY; reported balances
        # (balance_as_of set) stay as the core sent them, computed ones follow the schedule.
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS loans_dpd_figures (id bigint, "
                       "p int, i int, op bigint, oi bigint, paid bigint) ON COMMIT DELETE ROWS")
        cursor.execute("TRUNCATE loans_dpd_figures")
        copy_rows(cursor, "loans_dpd_figures", ("id", "p", "i", "op", "oi", "paid"), figures)
        cursor.execute(
            """UPDATE loans_loan l
                  SET updated_at = now(), dpd_principal = x.p, dpd_interest = x.i,
                      dpd_as_of = %s,
                      overdue_principal = CASE WHEN l.balance_as_of IS NULL
                                               THEN x.op / 100.0 ELSE l.overdue_principal END,
                      overdue_interest = CASE WHEN l.balance_as_of IS NULL
                                              THEN x.oi / 100.0 ELSE l.overdue_interest END,
                      outstanding_principal = CASE WHEN l.balance_as_of IS NULL
                                   THEN GREATEST(l.principal - x.paid / 100.0, 0)
                                   ELSE l.outstanding_principal END
                 FROM loans_dpd_figures x
                WHERE l.id = x.id
                  AND ((l.dpd_principal, l.dpd_interest, l.dpd_as_of)
                       IS DISTINCT FROM (x.p, x.i, %s::date)
                       OR l.balance_as_of IS NULL
                          AND (l.overdue_principal, l.overdue_interest, l.outstanding_principal)
                              IS DISTINCT FROM (x.op / 100.0, x.oi / 100.0,
                                                GREATEST(l.principal - x.paid / 100.0, 0)))""",
            [as_of, as_of])


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
