import numpy as np

from apps.scoring.scorecard.data import training_set_read
from apps.scoring.scorecard.metrics import discrimination
from apps.scoring.synthetic import COLUMNS, generate_rows, write_csv


def test_same_seed_same_rows_and_an_sme_like_bad_rate():
    assert generate_rows(50, seed=7) == generate_rows(50, seed=7)
    rows = generate_rows(2000, seed=1)
    assert list(rows[0]) == COLUMNS
    bad_rate = np.mean([r["default"] == "1" for r in rows])
    assert 0.06 < bad_rate < 0.18
    assert any(r["utility_trend_pct"] == "" for r in rows)  # missing values on purpose


def test_a_scorecard_on_5000_synthetic_loans_discriminates_and_follows_its_binning(tmp_path):
    from sklearn.model_selection import train_test_split

    from apps.scoring.scorecard.model import Scorecard

    path = tmp_path / "sme.csv"
    write_csv(path, 5000, seed=11)
    data = training_set_read(csv_path=path, target="default")
    train, holdout = train_test_split(np.arange(5000), test_size=0.3, stratify=data.y,
                                      random_state=11)

    def take(rows):
        return {n: c[rows] if isinstance(c, np.ndarray) else [c[i] for i in rows]
                for n, c in data.columns.items()}

    card = Scorecard.fit(take(train), data.kinds, data.y[train], target="default", seed=11)
    assert discrimination(data.y[holdout], card.predict_proba(take(holdout)))["auc"] > 0.7
    assert "debt_to_assets" in card.features
    assert card.binnings["debt_to_assets"].trend == "ascending"
    table = card.points_table()
    monotonic = [f for f in card.features if card.binnings[f].trend != "none"]
    assert len(monotonic) >= 4
    for feature in monotonic:
        points = table[feature][:-1]  # intervals only: the missing bin stands apart
        steps = np.diff(points)
        # Rising risk (WOE) with a positive β means falling points, and the reverse.
        assert (steps < 0).all() if card.binnings[feature].trend == "ascending" \
            else (steps > 0).all(), feature
