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


def in_force_rows(loan: np.ndarray, version: np.ndarray, start: np.ndarray,
                  current: np.ndarray) -> np.ndarray:
    """Which schedule rows belong to a version ever in force (`apps.loans.dpd.
    schedule_segments` in arrays): versions up to the loan's `current` one (aligned with
    the rows), less those a later version in force on or before their first day supersedes.
    `start`: each row's version's first day (ordinal)."""
    keep = version <= current
    if not keep.any():
        return keep
    # One entry per (loan, version): its first day.
    order = np.lexsort((start, version, loan))
    l_, v_, s_ = loan[order], version[order], start[order]
    head = np.concatenate(([True], (l_[1:] != l_[:-1]) | (v_[1:] != v_[:-1])))
    head &= keep[order]
    gl, gv, gs = l_[head], v_[head], s_[head]
    # Earliest first day among the later versions of the same loan: a running minimum over
    # the entries in reverse, keyed so that another loan's entries never lower it.
    key = gl * _SPAN + gs
    rev = np.minimum.accumulate(key[::-1])[::-1]
    later = np.concatenate((rev[1:], [np.iinfo(np.int64).max]))
    same = np.concatenate((gl[1:] == gl[:-1], [False]))
    superseded = same & (later <= key)
    dead_loan, dead_version = gl[superseded], gv[superseded]
    if len(dead_loan):
        dead = np.isin(loan * 65536 + version, dead_loan * 65536 + dead_version)
        keep &= ~dead
    return keep


def chunk_dpd(*, loans: np.ndarray, schedule: tuple[np.ndarray, ...],
              payments: tuple[np.ndarray, ...], as_of: dt.date):
    """Change points and figures at `as_of` for every loan in `loans` (sorted ids).

    `schedule`: (loan id, due ordinal, principal fen, interest fen[, first day in force]),
    the rows of the versions in force (`in_force_rows`), sorted by loan, first day, due date;
    without the fifth column every loan has one version, in force from the start. The first
    version of each loan counts from the start whatever its first day (as in
    `apps.loans.dpd.schedule_segments`). `payments`: (loan id, value-date ordinal, amount
    fen) of standing repayments summed per day, sorted by loan then day. Returns (points,
    figures): points as arrays (loan id, as_of ordinal, dpd principal, dpd interest); figures
    as arrays aligned with `loans` (dpd principal, dpd interest, overdue principal, overdue
    interest, principal paid as `apps.loans.dpd.loan_dpd` defines it).

    Each (loan, version) is a segment; obligations are laid out per segment, and a day is
    looked at with the segment in force that day and the payments from its first day on.
    """
    day_end = np.int64(as_of.toordinal())
    n_loans = len(loans)
    s_loan, s_due, s_principal, s_interest = schedule[:4]
    s_start = schedule[4].astype(np.int64) if len(schedule) > 4 \
        else np.zeros(len(s_loan), dtype=np.int64)
    p_loan, p_day, p_amount = payments
    s_idx = np.searchsorted(loans, s_loan).astype(np.int64)
    p_idx = np.searchsorted(loans, p_loan).astype(np.int64)

    # Segments: one per (loan, first day); the loan's first from the start (day 0).
    seg_head = np.ones(len(s_idx), dtype=bool)
    seg_head[1:] = (s_idx[1:] != s_idx[:-1]) | (s_start[1:] != s_start[:-1])
    s_seg = np.cumsum(seg_head) - 1
    g_loan = s_idx[seg_head]
    g_start = s_start[seg_head].copy()
    g_first = np.ones(len(g_loan), dtype=bool)
    g_first[1:] = g_loan[1:] != g_loan[:-1]
    g_start[g_first] = 0
    n_seg = len(g_loan)
    g_key = g_loan * _SPAN + g_start  # sorted: loans ascending, first days ascending

    # Obligations in allocation order: per instalment interest, then principal; none of 0.
    o_idx = np.repeat(s_seg, 2)
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
    ob_start = np.searchsorted(o_idx, np.arange(n_seg))        # first obligation per segment
    ob_stop = np.searchsorted(o_idx, np.arange(n_seg), side="right")
    base = np.concatenate(([0], cum))[ob_start]                # total before the segment
    o_ends = cum - base[o_idx]                                 # running total in the segment
    o_key = o_idx * _SPAN + o_ends

    # Due date of the next obligation of each kind at position k or later, same segment.
    positions = np.arange(n_ob + 1)

    def next_due(mask):
        where = np.flatnonzero(mask)
        due = np.full(n_ob + 1, _NONE)  # position n_ob: past every segment's end, nothing
        if len(where) == 0:
            return due
        j = np.searchsorted(where, positions[:-1])
        candidate = where[np.minimum(j, len(where) - 1)]
        ok = (j < len(where)) & (o_idx[candidate] == o_idx)  # only the same segment's
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

    def segment(idx, day):
        """The segment in force for loan `idx` on `day` (-1: the loan has no schedule)."""
        g = np.searchsorted(g_key, idx * _SPAN + day, side="right") - 1
        ok = g >= 0
        ok[ok] = g_loan[g[ok]] == idx[ok]
        return np.where(ok, g, -1)

    def paid_in(idx, g, day):
        """Payments counted against segment g by `day`: those from its first day on."""
        paid = paid_by(idx, day)
        first = np.concatenate((g_start, [0]))[np.where(g >= 0, g, n_seg)]
        return paid - np.where(first > 0, paid_by(idx, first - 1), 0)

    def arrears(g, day, paid):
        """(principal since, interest since) ordinals, or -1 when not past due."""
        if not n_seg:  # no loan has a schedule: nothing is ever due
            k = np.full(len(g), n_ob)
        else:
            g0 = np.maximum(g, 0)
            k = np.searchsorted(o_key, g0 * _SPAN + paid, side="right")
            k = np.where((g >= 0) & (k < ob_stop[g0]), k, n_ob)
        since_p, since_i = next_principal[k], next_interest[k]
        since_p = np.where((since_p != _NONE) & (since_p < day), since_p, _NONE)
        since_i = np.where((since_i != _NONE) & (since_i < day), since_i, _NONE)
        return since_p, since_i

    # Days the arrears can change: payment days, the day after each due date and the first
    # day of each later segment.
    later = ~g_first
    c_key = np.sort(np.concatenate((p_key, g_loan[o_idx] * _SPAN + o_due + 1,
                                    g_loan[later] * _SPAN + g_start[later])))
    if len(c_key):  # unique by sorting: faster here than np.unique's hashing
        c_key = c_key[np.concatenate(([True], c_key[1:] != c_key[:-1]))]
    c_idx, c_day = c_key // _SPAN, c_key % _SPAN
    inside = c_day <= day_end
    c_idx, c_day = c_idx[inside], c_day[inside]
    c_seg = segment(c_idx, c_day)
    since_p, since_i = arrears(c_seg, c_day, paid_in(c_idx, c_seg, c_day))
    first = np.ones(len(c_idx), dtype=bool)
    first[1:] = c_idx[1:] != c_idx[:-1]
    prev_p = np.where(first, _NONE, np.roll(since_p, 1))
    prev_i = np.where(first, _NONE, np.roll(since_i, 1))
    change = (since_p != prev_p) | (since_i != prev_i)
    pt_idx, pt_day = c_idx[change], c_day[change]
    pt_p = np.where(since_p[change] != _NONE, pt_day - since_p[change], 0)
    pt_i = np.where(since_i[change] != _NONE, pt_day - since_i[change], 0)
    points = (loans[pt_idx], pt_day, pt_p, pt_i)

    # Figures at the end of as_of, against each loan's segment in force that day.
    every = np.arange(n_loans, dtype=np.int64)
    ends = np.full(n_loans, day_end)
    now_seg = segment(every, ends)
    paid = paid_in(every, now_seg, ends)
    f_p, f_i = arrears(now_seg, ends, paid)
    dpd_p = np.where(f_p != _NONE, day_end - f_p, 0)
    dpd_i = np.where(f_i != _NONE, day_end - f_i, 0)
    # Per segment: what is paid of it if it is in force at as_of (others count nothing).
    seg_paid = np.zeros(n_seg, dtype=np.int64)
    live = np.zeros(n_seg, dtype=bool)
    has_seg = now_seg >= 0
    seg_paid[now_seg[has_seg]] = paid[has_seg]
    live[now_seg[has_seg]] = True
    o_live = live[o_idx]
    o_loan = g_loan[o_idx]
    covered = np.clip(seg_paid[o_idx] - (o_ends - o_amount), 0, o_amount)
    unpaid = np.where(o_live & (o_due < day_end), o_amount - covered, 0)
    overdue_p = np.bincount(o_loan, weights=np.where(~o_interest, unpaid, 0),
                            minlength=n_loans)
    overdue_i = np.bincount(o_loan, weights=np.where(o_interest, unpaid, 0), minlength=n_loans)
    principal_paid = np.bincount(o_loan, weights=np.where(~o_interest & o_live, covered, 0),
                                 minlength=n_loans)
    total = np.zeros(n_seg, dtype=np.int64)  # every obligation of the segment
    has = ob_stop > ob_start
    total[has] = o_ends[ob_stop[has] - 1]
    seg_total = np.zeros(n_loans, dtype=np.int64)
    seg_total[has_seg] = total[now_seg[has_seg]]
    principal_paid = principal_paid + np.maximum(paid - seg_total, 0)  # overpayment: principal
    # Principal the first version scheduled less the version in force (apps.loans.dpd).
    s_principal = s_principal.astype(np.int64)
    by_seg = np.bincount(s_seg, weights=s_principal, minlength=n_seg) if n_seg \
        else np.zeros(0)
    first_total = np.zeros(n_loans)
    first_total[g_loan[g_first]] = by_seg[g_first]
    now_total = np.zeros(n_loans)
    now_total[has_seg] = by_seg[now_seg[has_seg]]
    principal_paid = principal_paid + (first_total - now_total)
    # Sums of whole fen below 2^53 are exact in float64; back to integers.
    figures = (dpd_p, dpd_i, np.rint(overdue_p).astype(np.int64),
               np.rint(overdue_i).astype(np.int64), np.rint(principal_paid).astype(np.int64))
    return points, figures
