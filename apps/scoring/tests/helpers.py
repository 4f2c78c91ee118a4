"""A small scorecard built by hand, so tests can check arithmetic against hand-computed values."""

from apps.scoring.scorecard.binning import Bin, FeatureBinning
from apps.scoring.scorecard.model import Scaling, Scorecard


def hand_scorecard() -> Scorecard:
    """ln(odds_bad) = −2 + 0.8·WOE(turnover) + 1.2·WOE(tax); 600 points at 19:1, PDO 50."""
    turnover = FeatureBinning(name="turnover", kind="numeric", splits=[10.0], trend="descending",
                              bins=[Bin("(-inf, 10]", 300, 200, woe=0.4),
                                    Bin("(10, +inf)", 400, 100, woe=-0.5),
                                    Bin("missing", 0, 0, woe=0.4, missing=True)])
    tax = FeatureBinning(name="tax", kind="categorical", bins=[
        Bin("A, B", 500, 100, woe=-0.2, categories=["A", "B"]),
        Bin("C + other", 150, 150, woe=0.3, categories=["C"], other=True),
        Bin("missing", 50, 50, woe=0.1, missing=True)])
    return Scorecard(target="default", binnings={"turnover": turnover, "tax": tax},
                     intercept=-2.0, coefficients={"turnover": 0.8, "tax": 1.2},
                     scaling=Scaling(base_score=600, base_odds=19, pdo=50),
                     grades=[["A", 550.0], ["B", 490.0], ["C", None]])
