import numpy as np
import pytest

from apps.scoring.scorecard.report import (
    calibration_table,
    grade_table,
    onehot_benchmark,
    score_distribution,
)


def test_calibration_table_by_hand():
    y = [0, 0, 1, 0, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.8, 0.9]
    # Three bands of two, safest first: predicted 0.15/0.35/0.85, observed 0/0.5/1.
    assert calibration_table(y, p, bands=3) == [
        {"n": 2, "predicted": 0.15, "observed": 0.0},
        {"n": 2, "predicted": 0.35, "observed": 0.5},
        {"n": 2, "predicted": 0.85, "observed": 1.0}]


def test_grade_table_keeps_the_cut_off_order_and_empty_grades():
    table = grade_table([0, 1, 1, 0], ["B", "B", "C", "A"], ["A", "B", "C", "D"])
    assert table == [{"grade": "A", "n": 1, "bad_rate": 0.0},
                     {"grade": "B", "n": 2, "bad_rate": 0.5},
                     {"grade": "C", "n": 1, "bad_rate": 1.0},
                     {"grade": "D", "n": 0, "bad_rate": None}]


def test_score_distribution_counts_every_score():
    bands = score_distribution([500, 550, 600, 650, 700], bins=2)
    assert [b["n"] for b in bands] == [2, 3] and bands[0]["from"] == 500


def test_onehot_benchmark_handles_missing_and_unseen_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * x))).astype(int)
    x[:30] = np.nan
    cat = ["a" if v > 0 else "b" for v in np.nan_to_num(x)]
    cat[:5] = [None] * 5
    kinds = {"x": "numeric", "c": "categorical"}
    result = onehot_benchmark({"x": x[:300], "c": cat[:300]}, y[:300],
                              {"x": x[300:], "c": ["zzz"] * 100}, y[300:], kinds)
    assert result["auc"] > 0.7
    assert result["gini"] == pytest.approx(2 * result["auc"] - 1, abs=1e-5)
