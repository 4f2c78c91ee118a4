"""Invariants of numeric binning on random data (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scoring.scorecard.binning import fit_numeric


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(40, 400), st.floats(0.0, 0.3),
       st.sampled_from([2, 4, 6]), st.booleans())
def test_binning_keeps_every_row_is_monotonic_and_agrees_with_assign(seed, n, missing, max_bins,
                                                                      integers):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    if integers:
        x = np.round(x * 2)  # many ties: splits must still be clean
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    y[:2] = [0, 1]
    x[rng.random(n) < missing] = np.nan
    binning = fit_numeric("x", x, y, max_bins=max_bins, min_share=0.05)
    intervals = binning.bins[:-1]
    assert len(intervals) <= max_bins
    assert sum(b.good + b.bad for b in binning.bins) == n
    idx = binning.assign(x)
    for i, b in enumerate(binning.bins):  # the counts fitted are the counts assign() gives
        inside = idx == i
        assert (b.bad, b.good) == (int(y[inside].sum()), int(inside.sum() - y[inside].sum()))
    rates = [b.bad / (b.good + b.bad) for b in intervals]
    if binning.trend == "ascending":
        assert all(a < b for a, b in zip(rates, rates[1:], strict=False))
    elif binning.trend == "descending":
        assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    else:
        assert len(intervals) == 1
    assert all(np.isfinite(b.woe) for b in binning.bins)
