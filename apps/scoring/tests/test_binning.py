import math

import numpy as np
import pytest

from apps.scoring.scorecard.binning import fit_categorical, fit_numeric


def _rising_risk(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    y = (rng.random(n) < 0.05 + 0.4 * x).astype(int)
    return x, y


def test_numeric_bins_are_monotonic_large_enough_and_mixed():
    x, y = _rising_risk()
    x[:100] = np.nan  # 5% missing
    binning = fit_numeric("ratio", x, y, min_share=0.05, max_bins=6)
    intervals = binning.bins[:-1]
    assert binning.trend == "ascending"
    assert 2 <= len(intervals) <= 6
    woes = [b.woe for b in intervals]
    assert all(a < b for a, b in zip(woes, woes[1:], strict=False))
    assert all(b.good + b.bad >= 0.05 * len(x) and b.good > 0 and b.bad > 0 for b in intervals)
    assert binning.bins[-1].missing and binning.bins[-1].good + binning.bins[-1].bad == 100
    assert sum(b.good + b.bad for b in binning.bins) == len(x)


def test_direction_follows_the_data():
    x, y = _rising_risk()
    assert fit_numeric("ratio", -x, y).trend == "descending"


def test_right_closed_intervals_and_missing_assignment():
    x, y = _rising_risk()
    binning = fit_numeric("ratio", x, y)
    split = binning.splits[0]
    idx = binning.assign([split, np.nextafter(split, math.inf), np.nan, -1e9, 1e9])
    assert idx.tolist() == [0, 1, binning.missing_index, 0, len(binning.splits)]
    assert binning.bins[0].label.startswith("(-inf, ")
    assert binning.bins[-2].label.endswith("+inf)")


def test_bins_without_a_bad_are_merged_into_a_neighbour():
    x = np.arange(100, dtype=float)
    y = np.zeros(100, dtype=int)
    y[[5, 50, 95]] = 1
    binning = fit_numeric("x", x, y, max_prebins=20, min_share=0.01)
    assert all(b.bad > 0 and b.good > 0 for b in binning.bins[:-1])


def test_unseen_missing_bin_scores_as_the_riskiest_attribute():
    x, y = _rising_risk()
    binning = fit_numeric("ratio", x, y)
    assert binning.bins[-1].good + binning.bins[-1].bad == 0
    assert binning.bins[-1].woe == max(b.woe for b in binning.bins[:-1])
    assert binning.bins[-1].iv == 0


def test_rare_categories_are_grouped_and_unseen_ones_join_them():
    values = ["A"] * 500 + ["B"] * 400 + ["x1"] * 20 + ["x2"] * 20 + [None] * 60
    y = [0] * 450 + [1] * 50 + [0] * 300 + [1] * 100 + [0, 1] * 20 + [0] * 40 + [1] * 20
    binning = fit_categorical("industry", values, y, min_share=0.05)
    labels = [b.label for b in binning.bins]
    assert labels == ["A", "B", "x1, x2 + other", "missing"]
    other = binning.bins[2]
    assert (other.good, other.bad) == (20, 20)
    idx = binning.assign(["A", "B", "x2", "never-seen", None])
    assert idx.tolist() == [0, 1, 2, 2, 3]
    woes = [b.woe for b in binning.bins[:3]]
    assert woes == sorted(woes)  # groups are kept in bad-rate order


def test_categories_without_a_bad_are_merged_with_the_closest_bad_rate():
    values = ["A"] * 300 + ["B"] * 300 + ["C"] * 300
    y = [0] * 300 + [0] * 280 + [1] * 20 + [0] * 200 + [1] * 100
    binning = fit_categorical("c", values, y)
    assert [b.categories for b in binning.bins[:-1] if b.categories] == [["A", "B"], ["C"]]
    assert binning.iv == pytest.approx(sum(b.iv for b in binning.bins))


def test_uninformative_columns_are_binned_without_error_and_dropped_by_iv():
    from apps.scoring.scorecard.model import Scorecard

    x, y = _rising_risk(n=1000)
    columns = {"ratio": x, "constant": np.full(1000, 3.0), "empty": np.full(1000, np.nan),
               "all_rare": [f"id{i}" for i in range(1000)], "no_text": [None] * 1000}
    kinds = {"ratio": "numeric", "constant": "numeric", "empty": "numeric",
             "all_rare": "categorical", "no_text": "categorical"}
    card = Scorecard.fit(columns, kinds, y, target="bad")
    assert card.features == ["ratio"]
    assert set(card.info["dropped"]) == {"constant", "empty", "all_rare", "no_text"}
    assert card.info["iv"]["constant"] == 0
