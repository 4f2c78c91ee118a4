import pytest

from apps.scoring.scorecard.metrics import discrimination, psi


def test_psi_matches_the_reference_worked_example():
    # §7.2: expected 20/30/30/20%, actual 15/25/35/25% →
    # (−.05)ln(.75) + (−.05)ln(.8333) + (.05)ln(1.1667) + (.05)ln(1.25) = 0.042365 (stable)
    assert psi([0.2, 0.3, 0.3, 0.2], [0.15, 0.25, 0.35, 0.25]) == pytest.approx(0.042365, abs=1e-6)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0


def test_discrimination_by_hand():
    # Bads score 0.9, 0.4; goods 0.5, 0.1: 3 of 4 bad–good pairs ranked right → AUC 0.75,
    # Gini 0.5; KS = max(TPR − FPR) = 0.5 (at threshold 0.9: TPR 0.5, FPR 0).
    m = discrimination([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    assert m == pytest.approx({"auc": 0.75, "gini": 0.5, "ks": 0.5})
    with pytest.raises(ValueError):
        discrimination([1, 1], [0.2, 0.3])
