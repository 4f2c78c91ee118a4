"""The array engine of the nightly job (apps.loans.dpd_batch) equals the reference engine
(apps.loans.dpd) on any book of loans: same change points, same figures."""

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.loans import dpd
from apps.loans.dpd_batch import chunk_dpd

D0 = dt.date(2026, 1, 1)

loan_books = st.lists(st.tuples(
    st.lists(st.tuples(st.integers(1, 40), st.integers(0, 5_000), st.integers(0, 800)),
             min_size=0, max_size=6),
    st.lists(st.tuples(st.integers(0, 260), st.integers(1, 4_000)), max_size=8),
), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(book=loan_books, as_of=st.integers(0, 300))
def test_array_engine_equals_reference(book, as_of):
    as_of_day = D0 + dt.timedelta(days=as_of)
    loans = np.arange(10, 10 + len(book), dtype=np.int64)
    schedule_rows, payment_rows, expected = [], [], {}
    for loan_id, (gaps, pays) in zip(loans.tolist(), book, strict=True):
        due, schedule = D0, []
        for gap, principal, interest in gaps:
            due += dt.timedelta(days=gap)
            schedule.append((due, principal, interest))
        by_day = {}
        for day, amount in pays:
            d = D0 + dt.timedelta(days=day)
            if d <= as_of_day:
                by_day[d] = by_day.get(d, 0) + amount
        payments = sorted(by_day.items())
        expected[loan_id] = dpd.loan_dpd(schedule, payments, as_of=as_of_day)
        schedule_rows += [(loan_id, d.toordinal(), p, i) for d, p, i in schedule]
        payment_rows += [(loan_id, d.toordinal(), a) for d, a in payments]

    def columns(rows, width):
        table = np.array(rows, dtype=np.int64).reshape(-1, width)
        return tuple(table[:, k] for k in range(width))

    points, figures = chunk_dpd(loans=loans, schedule=columns(schedule_rows, 4),
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
