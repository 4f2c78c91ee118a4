"""Days past due for a whole chunk of loans at once, in arrays (numpy): the nightly path.

Same definition as `apps.loans.dpd` (allocation oldest instalment first, interest before
principal; DPD from the first unpaid due date; change points on payment days and the day
after due dates), computed for thousands of loans in a few vector operations instead of a
Python loop per loan. `tests/test_dpd_batch.py` holds the two equal on random books.

How: every loan's obligations are laid end to end in allocation order with their running
totals; keying each by (loan index × a large constant + running total) makes one sorted array
for the chunk, so "the first obligation the money paid so far does not cover" for every
(loan, day) is a single `searchsorted`. Cumulative payments per (loan, day) come the same way
from the payments' running totals. Dates are integer ordinals (`date.toordinal()`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

# Running totals per loan stay below this (in fen: 4.4 × 10^10 yuan), so keys never collide.
_SPAN = np.int64(1) << np.int64(42)
_NONE = np.int64(-1)


def chunk_dpd(*, loans: np.ndarray, schedule: tuple[np.ndarray, ...],
              payments: tuple[np.ndarray, ...], as_of: dt.date):
    """Change points and figures at `as_of` for every loan in `loans` (sorted ids).

    `schedule`: (loan id, due ordinal, principal fen, interest fen), sorted by loan then due
    date; `payments`: (loan id, value-date ordinal, amount fen) of standing repayments summed
    per day, sorted by loan then day. Returns (points, figures): points as arrays (loan id,
    as_of ordinal, dpd principal, dpd interest); figures as arrays aligned with `loans`
    (dpd principal, dpd interest, overdue principal, overdue interest, principal paid).
    """
    day_end = np.int64(as_of.toordinal())
    n_loans = len(loans)
    s_loan, s_due, s_principal, s_interest = schedule
    p_loan, p_day, p_amount = payments
    s_idx = np.searchsorted(loans, s_loan).astype(np.int64)
    p_idx = np.searchsorted(loans, p_loan).astype(np.int64)

    # Obligations in allocation order: per instalment interest, then principal; none of 0.
    o_idx = np.repeat(s_idx, 2)
    o_due = np.repeat(s_due.astype(np.int64), 2)
    o_amount = np.empty(len(s_due) * 2, dtype=np.int64)
    o_amount[0::2], o_amount[1::2] = s_interest, s_principal
    o_interest = np.zeros(len(o_amount), dtype=bool)
    o_interest[0::2] = True
    keep = o_amount > 0
    o_idx, o_due, o_amount, o_interest = o_idx[keep], o_due[keep], o_amount[keep], \
        o_interest[keep]
    n_ob = len(o_amount)
    cum = np.cumsum(o_amount)
    ob_start = np.searchsorted(o_idx, np.arange(n_loans))        # first obligation per loan
    ob_stop = np.searchsorted(o_idx, np.arange(n_loans), side="right")
    base = np.concatenate(([0], cum))[ob_start]                  # total before the loan
    o_ends = cum - base[o_idx]                                   # running total in the loan
    o_key = o_idx * _SPAN + o_ends

    # Due date of the next obligation of each kind at position k or later, same loan.
    positions = np.arange(n_ob + 1)

    def next_due(mask):
        where = np.flatnonzero(mask)
        due = np.full(n_ob + 1, _NONE)  # position n_ob: past every loan's end, nothing
        if len(where) == 0:
            return due
        j = np.searchsorted(where, positions[:-1])
        candidate = where[np.minimum(j, len(where) - 1)]
        ok = (j < len(where)) & (o_idx[candidate] == o_idx)  # only the same loan's
        due[:-1][ok] = o_due[candidate[ok]]
        return due

    next_principal, next_interest = next_due(~o_interest), next_due(o_interest)

    # Running payments per loan.
    p_day = p_day.astype(np.int64)
    p_cum = np.concatenate(([0], np.cumsum(p_amount.astype(np.int64))))
    p_key = p_idx * _SPAN + p_day
    pay_start = np.searchsorted(p_idx, np.arange(n_loans))

    def paid_by(idx, day):
        """Cumulative standing payments of loan `idx` up to and including `day`."""
        j = np.searchsorted(p_key, idx * _SPAN + day, side="right")
        return p_cum[j] - p_cum[pay_start[idx]]

    def arrears(idx, day, paid):
        """(principal since, interest since) ordinals, or -1 when not past due."""
        k = np.searchsorted(o_key, idx * _SPAN + paid, side="right")
        k = np.where(k < ob_stop[idx], k, n_ob)  # beyond the loan: nothing unpaid
        since_p, since_i = next_principal[k], next_interest[k]
        since_p = np.where((since_p != _NONE) & (since_p < day), since_p, _NONE)
        since_i = np.where((since_i != _NONE) & (since_i < day), since_i, _NONE)
        return since_p, since_i

    # Days the arrears can change: payment days and the day after each due date.
    c_key = np.sort(np.concatenate((p_key, o_idx * _SPAN + o_due + 1)))
    if len(c_key):  # unique by sorting: faster here than np.unique's hashing
        c_key = c_key[np.concatenate(([True], c_key[1:] != c_key[:-1]))]
    c_idx, c_day = c_key // _SPAN, c_key % _SPAN
    inside = c_day <= day_end
    c_idx, c_day = c_idx[inside], c_day[inside]
    since_p, since_i = arrears(c_idx, c_day, paid_by(c_idx, c_day))
    first = np.ones(len(c_idx), dtype=bool)
    first[1:] = c_idx[1:] != c_idx[:-1]
    prev_p = np.where(first, _NONE, np.roll(since_p, 1))
    prev_i = np.where(first, _NONE, np.roll(since_i, 1))
    change = (since_p != prev_p) | (since_i != prev_i)
    pt_idx, pt_day = c_idx[change], c_day[change]
    pt_p = np.where(since_p[change] != _NONE, pt_day - since_p[change], 0)
    pt_i = np.where(since_i[change] != _NONE, pt_day - since_i[change], 0)
    points = (loans[pt_idx], pt_day, pt_p, pt_i)

    # Figures at the end of as_of.
    every = np.arange(n_loans, dtype=np.int64)
    paid = paid_by(every, np.full(n_loans, day_end))
    f_p, f_i = arrears(every, np.full(n_loans, day_end), paid)
    dpd_p = np.where(f_p != _NONE, day_end - f_p, 0)
    dpd_i = np.where(f_i != _NONE, day_end - f_i, 0)
    covered = np.clip(paid[o_idx] - (o_ends - o_amount), 0, o_amount)
    unpaid = np.where(o_due < day_end, o_amount - covered, 0)
    overdue_p = np.bincount(o_idx, weights=np.where(~o_interest, unpaid, 0),
                            minlength=n_loans)
    overdue_i = np.bincount(o_idx, weights=np.where(o_interest, unpaid, 0), minlength=n_loans)
    principal_paid = np.bincount(o_idx, weights=np.where(~o_interest, covered, 0),
                                 minlength=n_loans)
    total = np.zeros(n_loans, dtype=np.int64)
    has = ob_stop > ob_start
    total[has] = o_ends[ob_stop[has] - 1]
    principal_paid = principal_paid + np.maximum(paid - total, 0)  # overpayment: principal
    # Sums of whole fen below 2^53 are exact in float64; back to integers.
    figures = (dpd_p, dpd_i, np.rint(overdue_p).astype(np.int64),
               np.rint(overdue_i).astype(np.int64), np.rint(principal_paid).astype(np.int64))
    return points, figures
