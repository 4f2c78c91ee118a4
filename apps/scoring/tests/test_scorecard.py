import math

import numpy as np
import pytest

from apps.scoring.scorecard.model import ArtefactError, Scaling, grade_for, validate_grades
from apps.scoring.tests.helpers import hand_scorecard


def test_pdo_scaling_matches_the_reference_worked_example():
    # §7.2: PDO 50, 600 points at bad:good 1:19 → B = 72.1348, A = 387.6036;
    # 650 at 1:38 (odds doubled), 550 at 1:9.5 (halved).
    s = Scaling(base_score=600, base_odds=19, pdo=50)
    assert s.factor == pytest.approx(72.134752, abs=1e-6)
    assert s.offset == pytest.approx(387.603624, abs=1e-6)
    scores = s.score_from_log_odds_bad([math.log(1 / 19), math.log(1 / 38), math.log(1 / 9.5)])
    assert scores.tolist() == pytest.approx([600.0, 650.0, 550.0], abs=1e-9)


def test_attribute_points_by_hand():
    # points_ij = −(β_j·WOE_ij + α/n)·factor + offset/n, α = −2, n = 2, factor 72.134752,
    # offset/2 = 193.801812. turnover (β 0.8): WOE 0.4 → −(0.32 − 1)·72.134752 + 193.801812
    # = 242.853444; WOE −0.5 → −(−0.4 − 1)·72.134752 + 193.801812 = 294.790465.
    # tax (β 1.2): WOE −0.2 → 283.248905; 0.3 → 239.968053; 0.1 → 257.280394.
    table = hand_scorecard().points_table()
    assert [round(p, 6) for p in table["turnover"]] == [242.853444, 294.790465, 242.853444]
    assert [round(p, 6) for p in table["tax"]] == [283.248905, 239.968053, 257.280394]


def test_points_add_up_to_the_score_of_the_probability():
    card = hand_scorecard()
    [row] = card.predict({"turnover": np.array([12.0]), "tax": ["A"]})
    # 294.790465 + 283.248905 = 578.039370; ln odds = −2 + 0.8(−0.5) + 1.2(−0.2) = −2.64
    assert row["score"] == pytest.approx(578.039370, abs=1e-6)
    assert row["probability"] == pytest.approx(1 / (1 + math.exp(2.64)), abs=1e-12)
    assert row["score"] == pytest.approx(card.scaling.offset - card.scaling.factor * -2.64)
    assert row["grade"] == "A" and row["reasons"] == []


def test_reason_codes_are_the_largest_shortfalls_from_each_features_best_points():
    card = hand_scorecard()
    rows = card.predict({"turnover": np.array([5.0, 5.0, np.nan]), "tax": ["A", "C", "Z"]})
    # Row 1: turnover 294.790465 − 242.853444 = 51.937021 short; tax at its best.
    assert [r["feature"] for r in rows[0]["reasons"]] == ["turnover"]
    assert rows[0]["reasons"][0]["shortfall"] == pytest.approx(51.937021, abs=1e-6)
    assert rows[0]["reasons"][0]["attribute"] == "(-inf, 10]"
    # Row 2: turnover 51.937021 short, tax 283.248905 − 239.968053 = 43.280852 short.
    assert [r["feature"] for r in rows[1]["reasons"]] == ["turnover", "tax"]
    assert rows[1]["reasons"][1]["shortfall"] == pytest.approx(43.280852, abs=1e-6)
    # Missing turnover and an unseen tax grade land in the missing and other bins.
    assert [r["attribute"] for r in rows[2]["reasons"]] == ["missing", "C + other"]
    assert [g["grade"] for g in rows] == ["B", "C", "C"]  # 537.10, 482.82, 482.82
    top1 = card.predict({"turnover": np.array([5.0]), "tax": ["C"]}, top_k=1)
    assert [r["feature"] for r in top1[0]["reasons"]] == ["turnover"]


def test_grade_cut_offs_are_data():
    grades = [["low", 700.0], ["mid", 500.0], ["high", None]]
    assert [grade_for(s, grades) for s in (700.0, 699.99, 500.0, -1e9)] == [
        "low", "mid", "mid", "high"]
    card = hand_scorecard()
    [row] = card.predict({"turnover": np.array([12.0]), "tax": ["A"]}, grades=grades)
    assert row["grade"] == "mid"


@pytest.mark.parametrize("grades", [[], [["A", 600.0]], [["A", 500.0], ["B", 600.0], ["C", None]],
                                    [["A", None], ["B", None]], [["A", "600"], ["B", None]]])
def test_malformed_grade_cut_offs_are_refused(grades):
    with pytest.raises(ArtefactError):
        validate_grades(grades)


def test_scoring_needs_every_model_column():
    with pytest.raises(ValueError, match="tax"):
        hand_scorecard().predict({"turnover": np.array([1.0])})


def _predict_as_before(card, columns, grades, top_k=3):
    """`Scorecard.predict` as it was before its tables were built once per model (session
    18): points, WOE and bins rebuilt from the binnings on every call."""
    grades = validate_grades(grades)
    idx = card.bin_indices(columns)
    table = {f: np.asarray(p) for f, p in card.points_table().items()}
    points = np.column_stack([table[f][idx[f]] for f in card.features])
    log_odds = card.intercept + sum(
        card.coefficients[f] * card.binnings[f].woe_values()[idx[f]] for f in card.features)
    p_bad = 1.0 / (1.0 + np.exp(-log_odds))
    scores = points.sum(axis=1)
    shortfall = np.array([table[f].max() for f in card.features]) - points
    order = np.argsort(-shortfall, axis=1, kind="stable")[:, :top_k]
    labels = [[b.label for b in card.binnings[f].bins] for f in card.features]
    return [{"probability": float(p_bad[r]), "score": float(scores[r]),
             "grade": grade_for(float(scores[r]), grades),
             "reasons": [{"feature": card.features[j],
                          "attribute": labels[j][idx[card.features[j]][r]],
                          "points": float(points[r, j]), "shortfall": float(shortfall[r, j])}
                         for j in order[r] if shortfall[r, j] > 1e-9]}
            for r in range(points.shape[0])]


def test_the_shipped_model_scores_rows_bit_for_bit_as_before_alone_or_together():
    """The tables `predict` keeps per model give exactly the numbers built afresh gave (the
    stored score, probability and reasons of every application), for a batch and for each
    row alone (the scoring worker's one row); a replaced scaling is used at once."""
    from apps.scoring.features.assemble import records_to_columns
    from apps.scoring.features.spec import KINDS
    from apps.scoring.scorecard.model import DEFAULT_GRADES, Scorecard
    from apps.scoring.services.registry import default_model_document
    from apps.scoring.synthetic import generate_rows

    card = Scorecard.from_json(default_model_document()["artefact"])
    records = [{k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                    else row[k]) for k in KINDS} for row in generate_rows(400, seed=11)]
    records[0] = dict.fromkeys(records[0])  # nothing known: every missing bin
    records[1] = {**records[1], "industry": "never-seen", "tax_rating": "Z"}  # other bins
    columns = records_to_columns(records, card.feature_kinds)
    grades = [["A", 650.0], ["B", 600.0], ["C", 550.0], ["D", 500.0], ["E", None]]
    expected = _predict_as_before(card, columns, grades)
    assert card.predict(columns, grades=grades) == expected
    assert len({r["grade"] for r in expected}) > 2  # a varied set: several grades
    for record, want in zip(records[:60], expected, strict=False):
        alone = records_to_columns([record], card.feature_kinds)
        assert card.predict(alone, grades=grades) == [want]
    card.scaling = Scaling(base_score=700.0, base_odds=19.0, pdo=50.0)
    moved = card.predict(columns, grades=DEFAULT_GRADES)
    assert moved == _predict_as_before(card, columns, DEFAULT_GRADES)
    assert moved[5]["score"] == pytest.approx(expected[5]["score"] + 100)
