"""The validation harness's own arithmetic (the harness itself runs outside the suite)."""

import numpy as np
import pytest

from apps.scoring.scorecard.metrics import calibration_summary
from apps.scoring.validation.datasets import DATA_SETS
from apps.scoring.validation.harness import verdict


def test_targets_are_judged_against_the_best_baseline():
    result = verdict({"scorecard": 0.786, "challenger": 0.79, "onehot_lr": 0.79,
                      "lightgbm": 0.78})
    assert result["best_baseline"] == "onehot_lr"
    assert result["scorecard_met"] and result["scorecard_gap"] == pytest.approx(-0.004)
    assert result["challenger_met"]  # equal to the best baseline counts as at or above
    result = verdict({"scorecard": 0.784, "challenger": 0.7899, "onehot_lr": 0.79,
                      "lightgbm": 0.78})
    assert not result["scorecard_met"] and not result["challenger_met"]


def test_calibration_summary_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 0.5])
    out = calibration_summary(y, p, bands=2)
    assert out["brier"] == pytest.approx((0.01 + 0.01 + 0.01 + 0.25) / 4)
    assert out["mean_predicted"] == pytest.approx(0.4) and out["observed"] == 0.5
    # Bands [0.1, 0.1] vs observed 0, and [0.5, 0.9] vs observed 1: |0.1| and |0.3|, weighted.
    assert out["ece"] == pytest.approx((2 * 0.1 + 2 * 0.3) / 4)


def test_the_vendored_german_data_reads_as_training_data():
    german = next(d for d in DATA_SETS if d.name == "german")
    data, sha = german.read()
    assert len(data.y) == 1000 and data.y.mean() == pytest.approx(0.3)
    assert len(sha) == 64 and len(data.columns) == 20
