import json

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from apps.scoring.scorecard.data import training_set_read
from apps.scoring.scorecard.gbm import GradientBoostingModel
from apps.scoring.scorecard.metrics import discrimination
from apps.scoring.scorecard.model import ArtefactError
from apps.scoring.synthetic import write_csv


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    path = tmp_path_factory.mktemp("gbm") / "sme.csv"
    write_csv(path, 3000, seed=21)
    data = training_set_read(csv_path=path, target="default")
    rows = np.arange(3000)
    train, holdout = rows[:2000], rows[2000:]

    def take(r):
        return {n: c[r] if isinstance(c, np.ndarray) else [c[i] for i in r]
                for n, c in data.columns.items()}

    model = GradientBoostingModel.fit(take(train), data.kinds, data.y[train], target="default",
                                      seed=21, max_iter=60)
    return model, take(holdout), data.y[holdout]


def test_gbm_discriminates_and_is_roughly_calibrated(fitted):
    model, holdout, y = fitted
    p = model.predict_proba(holdout)
    assert discrimination(y, p)["auc"] > 0.7
    assert abs(p.mean() - y.mean()) < 0.03
    # Monotonic constraints follow the scorecard's classing: one direction per characteristic.
    constraints = model.info["params"]["monotonic_cst"]
    assert set(constraints) == set(model.features) and set(constraints.values()) <= {-1, 0, 1}
    assert any(v != 0 for v in constraints.values())


def test_contributions_add_up_to_the_margin(fitted):
    model, holdout, _ = fitted
    margin, contrib = model.margin_matrix(model.matrix(holdout), contributions=True)
    base = model.baseline + sum(t["expected"][0] for t in model.trees)
    assert np.allclose(base + contrib.sum(axis=1), margin, atol=1e-9)
    [row] = model.predict({k: v[:1] for k, v in holdout.items()}, top_k=2)
    assert len(row["reasons"]) <= 2
    assert all(r["contribution"] > 0 for r in row["reasons"])


def test_unseen_category_is_scored_as_missing(fitted):
    model, holdout, _ = fitted
    one = {k: v[:1] for k, v in holdout.items()}
    unseen = {**one, "tax_rating": ["Z"]}
    missing = {**one, "tax_rating": [None]}
    assert model.predict_proba(unseen)[0] == model.predict_proba(missing)[0]


def test_json_round_trip_and_tampering(fitted):
    model, holdout, _ = fitted
    text = model.to_json()
    loaded = GradientBoostingModel.from_json(text, expected_sha256=model.sha256)
    assert loaded.to_json() == text
    assert np.array_equal(loaded.predict_proba(holdout), model.predict_proba(holdout))
    with pytest.raises(ArtefactError, match="does not match"):
        GradientBoostingModel.from_json(text.replace('"b":', '"b":1', 1),
                                        expected_sha256=model.sha256)
    data = json.loads(text)
    internal = data["trees"][0]["leaf"].index(0)
    data["trees"][0]["left"][internal] = internal  # a loop would never end
    with pytest.raises(ArtefactError, match="children must point forward"):
        GradientBoostingModel.from_dict(data)
    data = json.loads(text)
    data["calibration"]["a"] = -1.0
    with pytest.raises(ArtefactError, match="slope"):
        GradientBoostingModel.from_dict(data)
    with pytest.raises(ArtefactError):
        GradientBoostingModel.from_dict({"schema": "credence.gbm/1"})


def test_linear_start_adds_up_and_round_trips(monkeypatch, tmp_path):
    """Boosting from the linear start: the start's terms are contributions too, the artefact
    carries them as JSON, and a malformed term is refused."""
    from apps.scoring.scorecard import gbm

    path = tmp_path / "sme.csv"
    write_csv(path, 1500, seed=5)
    data = training_set_read(csv_path=path, target="default")
    monkeypatch.setattr(gbm, "SMALL_DATA_CANDIDATE",
                        {"start": "linear", "max_leaf_nodes": 2, "min_samples_leaf": 40})
    model = GradientBoostingModel.fit(data.columns, data.kinds, data.y, target="default",
                                      seed=5, max_iter=20)
    assert model.linear is not None and len(model.linear["terms"]) == len(model.features)
    x = model.matrix(data.columns)
    margin, contrib = model.margin_matrix(x, contributions=True)
    base = model.baseline + sum(t["expected"][0] for t in model.trees)
    assert np.allclose(base + contrib.sum(axis=1), margin, atol=1e-9)
    assert discrimination(data.y, model.predict_proba(data.columns))["auc"] > 0.7
    loaded = GradientBoostingModel.from_json(model.to_json(), expected_sha256=model.sha256)
    assert np.array_equal(loaded.predict_proba(data.columns), model.predict_proba(data.columns))
    broken = json.loads(model.to_json())
    numeric = next(i for i, f in enumerate(model.features) if model.kinds[f] == "numeric")
    broken["linear"]["terms"][numeric]["scale"] = 0.0
    with pytest.raises(ArtefactError, match="linear term"):
        GradientBoostingModel.from_dict(broken)


def test_linear_start_alone_is_the_average_of_its_fits_and_round_trips(monkeypatch, tmp_path):
    """0 boosting rounds (the folds may choose the linear start alone): the artefact has no
    trees, its linear start is the average of the raw and binned ridge fits over the C grid
    (one linear model), contributions add up, the JSON round-trips and bad classes are refused."""
    from apps.scoring.scorecard import gbm

    path = tmp_path / "sme.csv"
    write_csv(path, 1200, seed=8)
    data = training_set_read(csv_path=path, target="default")
    monkeypatch.setattr(gbm, "SMALL_DATA_CANDIDATE", {
        "start": "linear", "linear_form": "average", "max_leaf_nodes": 2,
        "min_samples_leaf": 40})
    monkeypatch.setattr(gbm, "SMALL_DATA_ROUNDS", 0)
    model = GradientBoostingModel.fit(data.columns, data.kinds, data.y, target="default",
                                      seed=8, tune=False)
    assert model.trees == [] and model.linear is not None
    numeric = [j for j, f in enumerate(model.features) if model.kinds[f] == "numeric"]
    assert any("bin_weights" in model.linear["terms"][j] for j in numeric)
    x = model.matrix(data.columns)
    margin, contrib = model.margin_matrix(x, contributions=True)
    assert np.allclose(model.baseline + contrib.sum(axis=1), margin, atol=1e-9)
    # The averaged start's margin is the mean of its member fits' margins, each fitted on the
    # rows the model learnt from (the 80% the calibration holdback leaves).
    kinds = [model.kinds[f] for f in model.features]
    n_codes = [len(model.codes.get(f, ())) for f in model.features]
    rows, _ = train_test_split(np.arange(len(data.y)), test_size=0.2, stratify=data.y,
                               random_state=8)
    members = [gbm._fit_linear(x[rows], data.y[rows], kinds, n_codes, 8, c, form)
               for form in ("raw", "bins") for c in gbm.LINEAR_C_GRID]
    expected = np.mean([gbm._linear_margin(m, kinds, x) for m in members], axis=0)
    assert np.allclose(margin, expected, atol=1e-9)
    assert discrimination(data.y, model.predict_proba(data.columns))["auc"] > 0.7
    loaded = GradientBoostingModel.from_json(model.to_json(), expected_sha256=model.sha256)
    assert np.array_equal(loaded.predict_proba(data.columns), model.predict_proba(data.columns))
    broken = json.loads(model.to_json())
    j = next(j for j in numeric if "bin_weights" in broken["linear"]["terms"][j])
    broken["linear"]["terms"][j]["bin_weights"].append(0.0)
    with pytest.raises(ArtefactError, match="one finite weight per class"):
        GradientBoostingModel.from_dict(broken)
    no_start = json.loads(model.to_json())
    no_start["linear"] = None
    with pytest.raises(ArtefactError, match="trees must be present"):
        GradientBoostingModel.from_dict(no_start)
