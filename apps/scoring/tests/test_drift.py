import numpy as np
import pytest

from apps.scoring.drift import (
    categorical_profile,
    numeric_profile,
    numeric_shares,
    psi_against,
)
from apps.scoring.scorecard.metrics import psi


def test_psi_matches_the_reference_worked_example():
    # Domain reference §7.2: expected 20/30/30/20%, actual 15/25/35/25% → PSI 0.0424.
    assert psi([0.2, 0.3, 0.3, 0.2], [0.15, 0.25, 0.35, 0.25]) == pytest.approx(0.0424, abs=5e-5)
    # By hand, term by term: (A − E)·ln(A/E).
    terms = [(-0.05) * np.log(0.75), (-0.05) * np.log(0.25 / 0.3),
             0.05 * np.log(0.35 / 0.3), 0.05 * np.log(1.25)]
    assert psi([0.2, 0.3, 0.3, 0.2], [0.15, 0.25, 0.35, 0.25]) == pytest.approx(sum(terms))


def test_numeric_bands_come_from_training_deciles_with_a_missing_band():
    training = np.array([*range(1, 11), np.nan, np.nan], dtype=float)
    profile = numeric_profile(training, bands=2)  # median split at 5.5
    assert profile["edges"] == [5.5]
    assert profile["shares"] == pytest.approx([5 / 12, 5 / 12, 2 / 12])
    assert numeric_shares(profile, [1.0, 9.0, 9.0, np.nan]) == pytest.approx(
        [0.25, 0.5, 0.25])
    assert psi_against(profile, training) == pytest.approx(0.0, abs=1e-12)


def test_a_shifted_population_crosses_the_alert_band_and_unseen_categories_count():
    rng = np.random.default_rng(1)
    profile = numeric_profile(rng.normal(0, 1, 5000))
    assert psi_against(profile, rng.normal(0, 1, 5000)) < 0.1
    assert psi_against(profile, rng.normal(1.0, 1, 5000)) > 0.25
    cats = categorical_profile(["a"] * 50 + ["b"] * 50)
    assert cats["shares"] == [0.5, 0.5, 0.0, 0.0]
    assert psi_against(cats, ["a"] * 50 + ["z"] * 50) > 1.0  # half the rows unseen
