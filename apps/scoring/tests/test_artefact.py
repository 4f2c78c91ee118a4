import hashlib
import json

import pytest

from apps.scoring.scorecard.model import ArtefactError, Scorecard
from apps.scoring.tests.helpers import hand_scorecard


def test_json_round_trip_gives_the_same_bytes_hash_and_scores():
    card = hand_scorecard()
    text = card.to_json()
    assert card.sha256 == hashlib.sha256(text.encode()).hexdigest()
    loaded = Scorecard.from_json(text, expected_sha256=card.sha256)
    assert loaded.to_json() == text and loaded.sha256 == card.sha256
    assert loaded.points_table() == card.points_table()
    rows = {"turnover": [5.0, 20.0, float("nan")], "tax": ["A", "C", None]}
    assert loaded.predict(rows) == card.predict(rows)


def test_hash_is_stable_whatever_the_key_order():
    card = hand_scorecard()
    shuffled = json.dumps(json.loads(card.to_json()), indent=2, sort_keys=False)
    assert Scorecard.from_json(shuffled).sha256 == card.sha256


def test_a_tampered_artefact_is_refused_by_its_hash():
    card = hand_scorecard()
    tampered = card.to_json().replace('"intercept":-2.0', '"intercept":-3.0')
    assert tampered != card.to_json()
    with pytest.raises(ArtefactError, match="does not match"):
        Scorecard.from_json(tampered, expected_sha256=card.sha256)


def test_edited_points_or_woe_are_refused_even_with_a_recomputed_hash():
    data = json.loads(hand_scorecard().to_json())
    data["binnings"]["tax"]["bins"][0]["points"] += 40  # a friendlier table for grade A/B
    with pytest.raises(ArtefactError, match="points of 'tax' disagree"):
        Scorecard.from_dict(data)
    data = json.loads(hand_scorecard().to_json())
    data["model"]["coefficients"]["turnover"] = 0.1
    with pytest.raises(ArtefactError, match="points of 'turnover' disagree"):
        Scorecard.from_dict(data)


def _broken(edit):
    data = json.loads(hand_scorecard().to_json())
    edit(data)
    return data


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(schema="pickle/1"), "unknown artefact schema"),
    (lambda d: d.pop("features"), "missing 'features'"),
    (lambda d: d["model"].update(intercept="-2"), "intercept must be a finite number"),
    (lambda d: d["model"]["coefficients"].pop("tax"), "exactly the features"),
    (lambda d: d["scaling"].update(pdo=-50), "pdo > 0"),
    (lambda d: d["scaling"].update(offset=400.0), "offset disagrees"),
    (lambda d: d["binnings"]["turnover"].update(splits=[10.0, 5.0]), "strictly increasing"),
    (lambda d: d["binnings"]["turnover"]["bins"].pop(), "missing bin must be present"),
    (lambda d: d["binnings"]["tax"]["bins"][0].update(good=1.5), "good has the wrong type"),
    (lambda d: d["binnings"]["tax"]["bins"][1].update(categories=["A"]), "two bins"),
    (lambda d: d.update(grades=[["A", None], ["B", 1.0]]), "null minimum"),
    (lambda d: d.update(woe="ln(distr_good/distr_bad)"), "WOE convention"),
])
def test_malformed_artefacts_are_refused_with_a_reason(edit, message):
    with pytest.raises(ArtefactError, match=message):
        Scorecard.from_dict(_broken(edit))


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"schema": "credence.scorecard/1"}',
                                  '{"x": NaN}'])
def test_garbage_is_refused(text):
    with pytest.raises(ArtefactError):
        Scorecard.from_json(text)
