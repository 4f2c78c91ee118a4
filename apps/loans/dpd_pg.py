"""The from-scratch DPD recomputation on PostgreSQL: binary COPY in and out, arrays between.

The nightly chunk (5,000 loans, ~100,000 repayment events) spent nearly all its time in
PostgreSQL and in per-row Python objects. Here every read is one bytea of packed integers
that numpy reads in place, every query names the loans by
`loan_id = ANY(ids)` on the child table so the planner walks the `loan_id` indexes instead of
scanning whole tables for each chunk, the figures are computed by `apps.loans.dpd_batch`, and
only what differs from what is stored is written: the history of changed loans (DELETE from the
first changed day, binary COPY of the new points) and the loan rows whose figures changed (one
UPDATE from a binary-COPY-filled temporary table). A rerun over an unchanged book therefore
reads and compares, and writes nothing.

`apps.loans.dpd_store.dpd_recompute_scratch` sends PostgreSQL here and every other database
to the portable path (the reference engine per loan); `tests/test_dpd_paths.py` holds the two
equal on the same book.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from django.db import connection

from apps.loans.dpd_batch import chunk_dpd, in_force_rows
from apps.loans.dpd_store import RecomputeResult

# Binary COPY: signature, no flags, no header extension.
_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"
_PG_EPOCH = dt.date(2000, 1, 1).toordinal()  # binary dates count days from 2000-01-01
_ORDINAL = "- DATE '0001-01-01' + 1"  # SQL date → Python date.toordinal()


def read_int_columns(cursor, sql: str, params, width: int,
                     order: int = 0) -> tuple[np.ndarray, ...]:
    """Columns of a query whose `width` columns are all bigint and never NULL, as int64
    arrays, sorted by the first `order` columns.

    PostgreSQL packs the rows into one bytea (`int8send`, big-endian, in `string_agg`) that
    numpy reads in place: no Python object per row. (A binary COPY would be the obvious
    channel, but libpq hands it over one message per row.) The aggregate takes the rows in
    whatever order they come and numpy sorts them, cheaper than a sort inside the aggregate.
    """
    names = [f"c{k}" for k in range(width)]
    packed = " || ".join(f"int8send(q.{n})" for n in names)
    cursor.execute(f"SELECT string_agg({packed}, ''::bytea) "  # noqa: S608 - constant
                   f"FROM ({sql}) AS q({', '.join(names)})", params)
    data = cursor.fetchone()[0] or b""
    table = np.frombuffer(data, dtype=">i8").astype(np.int64).reshape(-1, width)
    if order and len(table) > 1:
        table = table[np.lexsort([table[:, k] for k in range(order - 1, -1, -1)])]
    return tuple(np.ascontiguousarray(table[:, k]) for k in range(width))


def write_copy(cursor, table: str, columns: Sequence[str], types: Sequence[str],
               values: Sequence[np.ndarray]) -> None:
    """Binary COPY of equal-length arrays into `table`; `types` per column: "int8", "int4"
    or "date" (the values then being `date.toordinal()` ordinals)."""
    n = len(values[0])
    if not n:
        return
    fields, sizes = [("n", ">i2")], {"int8": 8, "int4": 4, "date": 4}
    for k, kind in enumerate(types):
        fields += [(f"l{k}", ">i4"), (f"v{k}", ">i8" if kind == "int8" else ">i4")]
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for k, (kind, column) in enumerate(zip(types, values, strict=True)):
        rows[f"l{k}"] = sizes[kind]
        rows[f"v{k}"] = column - _PG_EPOCH if kind == "date" else column
    names = ", ".join(columns)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(_HEADER + rows.tobytes() + _TRAILER)


def history_changes(new: Sequence[np.ndarray], old: Sequence[np.ndarray]):
    """For two sets of change points (loan, day, dpd p, dpd i), each unique by (loan, day):
    the loans whose points differ and, per such loan, the first day that differs.

    Both sets sorted together by every column: a point present in both sits next to its twin,
    so the points without a twin are the differences, and per loan the first of them (sorted
    by day) is where its history must be rewritten from.
    """
    rows = [np.concatenate((a, b)) for a, b in zip(new, old, strict=True)]
    order = np.lexsort(rows[::-1])
    rows = [column[order] for column in rows]
    twin = np.ones(len(order) - 1, dtype=bool) if len(order) else np.zeros(0, dtype=bool)
    for column in rows:
        twin &= column[1:] == column[:-1]
    paired = np.zeros(len(order), dtype=bool)
    paired[1:] |= twin
    paired[:-1] |= twin
    loans, days = rows[0][~paired], rows[1][~paired]
    loans, first = np.unique(loans, return_index=True)
    return loans, days[first]


def _from_day(loans: np.ndarray, since: np.ndarray, point_loans: np.ndarray,
              point_days: np.ndarray) -> np.ndarray:
    """Which points belong to a changed loan on or after that loan's first changed day."""
    if not len(loans):
        return np.zeros(len(point_loans), dtype=bool)
    k = np.minimum(np.searchsorted(loans, point_loans), len(loans) - 1)
    return (loans[k] == point_loans) & (point_days >= since[k])


def _standing_payments(loan, pk, day, is_repayment, amount, reverses, day_end: int):
    """(loan, day, amount) of the repayments still standing on `day_end`, summed per loan and
    day and sorted by both.

    A reversal belongs to the loan of the repayment it cancels (the feed refuses any other),
    so the reversals among a set of loans' events are all that can cancel those loans'
    repayments."""
    keep = (is_repayment == 1) & (day <= day_end) & ~np.isin(pk, reverses[reverses > 0])
    loan, day, amount = loan[keep], day[keep], amount[keep]
    order = np.lexsort((day, loan))
    loan, day, amount = loan[order], day[order], amount[order]
    if not len(loan):
        return loan, day, amount
    start = np.flatnonzero(np.concatenate(([True], (loan[1:] != loan[:-1])
                                           | (day[1:] != day[:-1]))))
    return loan[start], day[start], np.add.reduceat(amount, start)


def recompute(*, as_of: dt.date, loan_ids: Sequence[int] | None = None,
              first_id: int | None = None, last_id: int | None = None,
              states: Sequence[str] = (), balances: str | None = None) -> RecomputeResult:
    """From scratch for the loans `loan_ids`, or the loans in [first_id, last_id] in `states`.
    The caller holds the loans' row locks.

    `balances` names a temporary table of reported balances still to apply (the feed's,
    apps.loans.feed_balances): its loans count as reported, and the loans updated here take
    their balance in the same UPDATE (`result.updated` lists them; the caller writes the
    rest). A row updated twice in one transaction has its foreign keys checked again."""
    day_end = as_of.toordinal()
    # A join, not NOT EXISTS: in the select list that is a subplan scanning the table per
    # loan (1.4 s for 10,000 loans).
    pending, join = ("AND pb.loan_id IS NULL",
                     f"LEFT JOIN {balances} pb ON pb.loan_id = l.id") if balances else ("", "")
    with connection.cursor() as cursor:
        if loan_ids is not None:
            where, scope = "l.id = ANY(%s)", [sorted({int(i) for i in loan_ids})]
        else:
            where, scope = "l.id BETWEEN %s AND %s AND l.state = ANY(%s)", \
                [first_id, last_id, list(states)]
        # The loans, with what is stored of their figures to compare against.
        (ids, version, old_p, old_i, old_as_of, computed, old_op, old_oi, old_outstanding,
         principal) = read_int_columns(cursor, f"""
            SELECT l.id, l.schedule_version::bigint, l.dpd_principal::bigint,
                   l.dpd_interest::bigint, COALESCE((l.dpd_as_of {_ORDINAL})::bigint, -1),
                   (l.balance_as_of IS NULL {pending})::int::bigint,
                   (l.overdue_principal * 100)::bigint, (l.overdue_interest * 100)::bigint,
                   (l.outstanding_principal * 100)::bigint, (l.principal * 100)::bigint
              FROM loans_loan l {join} WHERE {where}""", scope, 10, order=1)  # noqa: S608
        # (`pending` above: a loan about to take a reported balance is not computed.)
        result = RecomputeResult(loans=len(ids))
        if not len(ids):
            return result
        # The ids as one array literal: psycopg adapts a list of 5,000 ints in Python.
        id_list = ["{" + ",".join(map(str, ids.tolist())) + "}"]
        # Packing costs PostgreSQL a function call and a concatenation per column and row,
        # so small fields share one bigint: (due, number, version) for an instalment,
        # (day, kind) and (amount or reversed id) for an event, (day, dpd p, dpd i) for a
        # stored point (days past due stay far below 2^20, 2,870 years).
        # (first day in force, due, version) share one bigint too: days since 0001-01-01
        # stay below 2^20 until the year 2870, versions below 2^16.
        s_loan, s_key, s_principal, s_interest = read_int_columns(cursor, """
            SELECT i.loan_id, ((i.effective_from - DATE '0001-01-01' + 1)::bigint << 40)
                              | ((i.due_date - DATE '0001-01-01' + 1)::bigint << 16)
                              | i.version,
                   (i.principal * 100)::bigint, (i.interest * 100)::bigint
              FROM loans_scheduleinstalment i WHERE i.loan_id = ANY(%s::bigint[])""",
            id_list, 4, order=2)
        # Every schedule version is read (the index on loan, version, number serves it
        # without a join); the versions in force are kept here, sorted by loan, first day
        # and due date (the packed key's order), as apps.loans.dpd_batch takes them.
        s_start, s_due = s_key >> 40, (s_key >> 16) & 0xFFFFFF
        in_force = in_force_rows(s_loan, s_key & 0xFFFF, s_start,
                                 version[np.searchsorted(ids, s_loan)])
        schedule = (s_loan[in_force], s_due[in_force], s_principal[in_force],
                    s_interest[in_force], s_start[in_force])
        # The events as stored; which repayments stand and their sums per day are worked
        # out here in arrays, cheaper than an anti-join and a grouping in SQL.
        e_loan, e_id, e_day_kind, e_value = read_int_columns(cursor, """
            SELECT loan_id, id,
                   (value_date - DATE '0001-01-01' + 1)::bigint * 2 + (kind = 'repayment')::int,
                   CASE WHEN kind = 'repayment' THEN ((principal + interest) * 100)::bigint
                        ELSE COALESCE(reverses_id, 0) END
              FROM loans_repaymentevent WHERE loan_id = ANY(%s::bigint[])""", id_list, 4)
        is_repayment = e_day_kind & 1
        payments = _standing_payments(e_loan, e_id, e_day_kind >> 1, is_repayment,
                                      np.where(is_repayment == 1, e_value, 0),
                                      np.where(is_repayment == 1, 0, e_value), day_end)
        points, figures = chunk_dpd(loans=ids, schedule=schedule, payments=payments,
                                    as_of=as_of)
        d_loan, d_packed = read_int_columns(cursor, """
            SELECT d.loan_id, ((d.as_of - DATE '0001-01-01' + 1)::bigint << 40)
                              | (d.dpd_principal::bigint << 20) | d.dpd_interest
              FROM loans_loandpd d WHERE d.loan_id = ANY(%s::bigint[])""", id_list, 2, order=2)
        old = (d_loan, d_packed >> 40, (d_packed >> 20) & 0xFFFFF, d_packed & 0xFFFFF)

        # History: the usual rerun, nothing changed, is one comparison of sorted arrays.
        if len(points[0]) == len(old[0]) and all(
                np.array_equal(a, b) for a, b in zip(points, old, strict=True)):
            changed, since = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        else:
            changed, since = history_changes(points, old)
        if len(changed):
            insert = _from_day(changed, since, points[0], points[1])
            result.loans_changed = len(changed)
            result.points_written = int(insert.sum())
            result.points_deleted = int(_from_day(changed, since, old[0], old[1]).sum())
            if result.points_deleted:  # the first night has nothing to delete
                cursor.execute(
                    """DELETE FROM loans_loandpd d
                        USING unnest(%s::bigint[], %s::date[]) AS x(loan_id, since)
                        WHERE d.loan_id = x.loan_id AND d.as_of >= x.since""",
                    [changed.tolist(), [dt.date.fromordinal(d) for d in since.tolist()]])
            write_copy(cursor, "loans_loandpd",
                       ("loan_id", "as_of", "dpd_principal", "dpd_interest"),
                       ("int8", "date", "int4", "int4"), [c[insert] for c in points])

        # Figures: a loan the core reports balances for keeps them (only its DPD is ours);
        # only the loans whose stored figures differ are written.
        dpd_p, dpd_i, overdue_p, overdue_i, paid = figures
        outstanding = np.maximum(principal - paid, 0)
        differs = (old_p != dpd_p) | (old_i != dpd_i) | (old_as_of != day_end) | (
            (computed == 1) & ((old_op != overdue_p) | (old_oi != overdue_i)
                               | (old_outstanding != outstanding)))
        if differs.any():
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS loans_dpd_figures (id bigint, "
                           "p int, i int, op bigint, oi bigint, outstanding bigint) "
                           "ON COMMIT DELETE ROWS")
            cursor.execute("TRUNCATE loans_dpd_figures")
            write_copy(cursor, "loans_dpd_figures", ("id", "p", "i", "op", "oi", "outstanding"),
                       ("int8", "int4", "int4", "int8", "int8", "int8"),
                       [c[differs] for c in (ids, dpd_p, dpd_i, overdue_p, overdue_i,
                                             outstanding)])
            if balances is None:
                cursor.execute(
                    """UPDATE loans_loan l
                          SET updated_at = now(), dpd_principal = x.p, dpd_interest = x.i,
                              dpd_as_of = %s,
                              overdue_principal = CASE WHEN l.balance_as_of IS NULL
                                                       THEN x.op / 100.0
                                                       ELSE l.overdue_principal END,
                              overdue_interest = CASE WHEN l.balance_as_of IS NULL
                                                      THEN x.oi / 100.0
                                                      ELSE l.overdue_interest END,
                              outstanding_principal = CASE WHEN l.balance_as_of IS NULL
                                                           THEN x.outstanding / 100.0
                                                           ELSE l.outstanding_principal END
                         FROM loans_dpd_figures x
                        WHERE l.id = x.id""", [as_of])
            else:
                cursor.execute(
                    f"""UPDATE loans_loan l
                          SET updated_at = now(), dpd_principal = x.p, dpd_interest = x.i,
                              dpd_as_of = %s,
                              overdue_principal = CASE
                                  WHEN b.loan_id IS NOT NULL THEN b.overdue_principal
                                  WHEN l.balance_as_of IS NULL THEN x.op / 100.0
                                  ELSE l.overdue_principal END,
                              overdue_interest = CASE
                                  WHEN b.loan_id IS NOT NULL THEN b.overdue_interest
                                  WHEN l.balance_as_of IS NULL THEN x.oi / 100.0
                                  ELSE l.overdue_interest END,
                              outstanding_principal = CASE
                                  WHEN b.loan_id IS NOT NULL THEN b.outstanding_principal
                                  WHEN l.balance_as_of IS NULL THEN x.outstanding / 100.0
                                  ELSE l.outstanding_principal END,
                              balance_as_of = coalesce(b.as_of, l.balance_as_of)
                         FROM loans_dpd_figures x LEFT JOIN {balances} b ON b.loan_id = x.id
                        WHERE l.id = x.id""", [as_of])  # noqa: S608 - the caller's table
            result.updated = ids[differs].tolist()
    return result
