"""The array engine of the nightly job (apps.loans.dpd_batch) equals the reference engine
(apps.loans.dpd) on any book of loans, restructured ones included (later schedule versions,
each in force from its day, some superseding others): same change points, same figures."""

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.loans import dpd
from apps.loans.dpd_batch import chunk_dpd, in_force_rows

D0 = dt.date(2026, 1, 1)

instalment_rows = st.lists(
    st.tuples(st.integers(1, 40), st.integers(0, 5_000), st.integers(0, 800)), max_size=6)
loan_books = st.lists(st.tuples(
    instalment_rows,
    st.lists(st.tuples(st.integers(0, 260), st.integers(1, 4_000)), max_size=8),
    # Restructurings: (first day in force, rows due from then on); the loan's current
    # version may be below the last (a version not yet in force is never counted).
    st.lists(st.tuples(st.integers(0, 250), instalment_rows), max_size=3),
    st.integers(0, 3),
), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(book=loan_books, as_of=st.integers(0, 300))
def test_array_engine_equals_reference(book, as_of):
    as_of_day = D0 + dt.timedelta(days=as_of)
    loans = np.arange(10, 10 + len(book), dtype=np.int64)
    schedule_rows, payment_rows, expected = [], [], {}
    for loan_id, (gaps, pays, later, behind) in zip(loans.tolist(), book, strict=True):
        rows = []  # (version, first day, due, principal, interest)
        for version, (start, version_gaps) in enumerate([(0, gaps), *later], start=1):
            due = D0 + dt.timedelta(days=start)
            for gap, principal, interest in version_gaps:
                due += dt.timedelta(days=gap)
                rows.append((version, D0 + dt.timedelta(days=start), due, principal, interest))
        current = max(1, len(later) + 1 - behind)
        schedule = dpd.schedule_segments(r for r in rows if r[0] <= current)
        by_day = {}
        for day, amount in pays:
            d = D0 + dt.timedelta(days=day)
            if d <= as_of_day:
                by_day[d] = by_day.get(d, 0) + amount
        payments = sorted(by_day.items())
        expected[loan_id] = dpd.loan_dpd(schedule, payments, as_of=as_of_day)
        schedule_rows += [(loan_id, v, start.toordinal(), d.toordinal(), p, i, current)
                          for v, start, d, p, i in rows]
        payment_rows += [(loan_id, d.toordinal(), a) for d, a in payments]

    def columns(rows, width):
        table = np.array(rows, dtype=np.int64).reshape(-1, width)
        return tuple(table[:, k] for k in range(width))

    # As apps.loans.dpd_pg prepares them: the versions in force, by loan, first day, due.
    s_loan, s_version, s_start, s_due, s_p, s_i, s_current = columns(schedule_rows, 7)
    keep = in_force_rows(s_loan, s_version, s_start, s_current)
    order = np.lexsort((s_due[keep], s_start[keep], s_loan[keep]))
    schedule = tuple(c[keep][order] for c in (s_loan, s_due, s_p, s_i, s_start))
    points, figures = chunk_dpd(loans=loans, schedule=schedule,
                                payments=columns(payment_rows, 3), as_of=as_of_day)
    got_points = {}
    for loan_id, day, p, i in zip(*(c.tolist() for c in points), strict=True):
        got_points.setdefault(loan_id, []).append(
            dpd.DpdPoint(dt.date.fromordinal(day), p, i))
    for k, loan_id in enumerate(loans.tolist()):
        history, f = expected[loan_id]
        assert got_points.get(loan_id, []) == history
        assert [int(c[k]) for c in figures] == [f.dpd_principal, f.dpd_interest,
                                                f.overdue_principal, f.overdue_interest,
                                                f.principal_paid]
