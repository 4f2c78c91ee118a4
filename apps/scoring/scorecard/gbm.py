"""Challenger model: gradient boosting with calibrated probabilities and per-feature reasons
(issue 6 "Challenger"; scikit-learn's HistGradientBoostingClassifier).

Inputs: numeric columns as they are (missing values go down the branch the trees learnt for
them); categorical columns coded by their training bad rate (rank, so splits on the code group
similar-risk categories; categories unseen in training are treated as missing).

Probabilities: boosting margins are not calibrated, so 20% of the training rows (stratified) are
held back and a Platt sigmoid p = σ(a·margin + b) is fitted on them (Platt 1999; scikit-learn's
`CalibratedClassifierCV(method="sigmoid")` does the same with cross-validation).

Reasons: per-feature contributions by path attribution (Saabas): every split on the way to a
leaf moves the expected margin from the node's expectation to the child's, and that move is
credited to the split feature. Node expectations are the count-weighted means of the leaves
below, so base + Σ contributions equals the margin exactly. The features that raise the margin
(the risk) most are the reason codes.

Artefact: the trees are exported to plain JSON (feature, threshold, missing direction, children,
leaf value) and evaluated here with numpy — no pickle, so loading a file can never run code.
The export reads the fitted predictors' node arrays (a private but long-stable scikit-learn
structure); `fit` checks the exported trees reproduce scikit-learn's margins before returning.
"""

import math

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from apps.scoring.scorecard.artefact import JsonArtefact
from apps.scoring.scorecard.binning import CATEGORICAL, NUMERIC
from apps.scoring.scorecard.model import (
    DEFAULT_GRADES,
    ArtefactError,
    Scaling,
    _is_number,
    grade_for,
    validate_grades,
)

SCHEMA = "credence.gbm/1"
_MAX = float(np.finfo(float).max)
TREE_FIELDS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value",
               "expected")


# Fixed boosting settings; the grid below is searched by cross-validation on training rows.
BOOST_FIXED = {"learning_rate": 0.1, "early_stopping": False, "max_bins": 255}
# Stumps first: boosting two-leaf trees builds an additive model (one shape function per
# characteristic, like a scorecard with fine bins), the strongest on small or nearly additive
# data; deeper trees add interactions where the data carry them.
TUNING_GRID: list[dict] = [
    {"max_leaf_nodes": 2, "min_samples_leaf": 20, "l2_regularization": 1.0},
    {"max_leaf_nodes": 4, "min_samples_leaf": 40, "l2_regularization": 10.0},
    {"max_leaf_nodes": 8, "min_samples_leaf": 40, "l2_regularization": 1.0},
]
TUNING_ROUNDS = 300
TUNING_FOLDS = 3
SMALL_DATA_ROUNDS = 150
TUNING_MIN_BADS = 60  # per class: fewer and fold AUCs rank candidates by noise


def _can_tune(y: np.ndarray) -> bool:
    bads = int(y.sum())
    return bads >= TUNING_MIN_BADS and len(y) - bads >= TUNING_MIN_BADS


def _direction(values, kind: str, y: np.ndarray) -> int:
    """+1 where risk rises with the value, −1 where it falls, 0 where the scorecard's
    monotonic binning finds no trend (or no information: IV below 0.02)."""
    from apps.scoring.scorecard.binning import fit_numeric

    if kind == CATEGORICAL:
        return 1  # codes are bad-rate ranks on the training rows
    binning = fit_numeric("x", values, y)
    if binning.iv < 0.02:
        return 0
    return {"ascending": 1, "descending": -1}.get(binning.trend, 0)


def _tune(x: np.ndarray, y: np.ndarray, monotonic: list[int], seed: int):
    """(best candidate, rounds, its out-of-fold margins at that round)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=TUNING_FOLDS, shuffle=True, random_state=seed)
    folds = list(splitter.split(x, y))
    best = None
    for candidate in TUNING_GRID:
        curves, staged = [], []
        for train, test in folds:
            booster = HistGradientBoostingClassifier(
                **BOOST_FIXED, **candidate, max_iter=TUNING_ROUNDS, random_state=seed,
                monotonic_cst=monotonic).fit(x[train], y[train])
            margins = list(booster.staged_decision_function(x[test]))
            staged.append(margins)
            curves.append([roc_auc_score(y[test], m) for m in margins])
        length = min(len(c) for c in curves)
        mean = np.mean([c[:length] for c in curves], axis=0)
        rounds = int(np.argmax(mean)) + 1
        if best is None or mean[rounds - 1] > best[0]:
            oof = np.empty(len(y))
            for (_train, test), margins in zip(folds, staged, strict=True):
                oof[test] = np.ravel(margins[min(rounds, len(margins)) - 1])
            best = (float(mean[rounds - 1]), candidate, rounds, oof)
    return best[1], best[2], best[3]


def _category_codes(values, y) -> dict[str, int]:
    """Rank categories by smoothed training bad rate: code 0 is the safest."""
    stats: dict[str, list[float]] = {}
    for v, target in zip(values, y, strict=True):
        if v is not None:
            cell = stats.setdefault(v, [0.0, 0.0])
            cell[0] += target
            cell[1] += 1
    rate = {c: (bad + 0.5) / (n + 1.0) for c, (bad, n) in stats.items()}
    return {c: i for i, c in enumerate(sorted(rate, key=lambda c: (rate[c], c)))}


class GradientBoostingModel(JsonArtefact):
    """Exported boosted trees + Platt calibration + PDO scaling, evaluated without scikit-learn."""

    def __init__(self, *, target: str, features: list[str], kinds: dict[str, str],
                 codes: dict[str, dict[str, int]], baseline: float, trees: list[dict],
                 calibration: dict, scaling: Scaling, grades: list[list],
                 info: dict | None = None):
        self.target, self.features, self.kinds = target, list(features), dict(kinds)
        self.codes, self.baseline, self.trees = codes, float(baseline), trees
        self.calibration = {"a": float(calibration["a"]), "b": float(calibration["b"])}
        self.scaling, self.grades, self.info = scaling, validate_grades(grades), info or {}
        self._arrays = [{k: np.asarray(t[k]) for k in TREE_FIELDS} for t in trees]

    @property
    def feature_kinds(self) -> dict[str, str]:
        return dict(self.kinds)

    # --- fitting -------------------------------------------------------------------------------

    @classmethod
    def fit(cls, columns: dict, kinds: dict[str, str], y, *, target: str, seed: int = 0,
            scaling: Scaling | None = None, grades: list[list] | None = None,
            tune: bool | None = None, max_iter: int | None = None) -> "GradientBoostingModel":
        """Boosted trees tuned by stratified k-fold cross-validation on the training rows only.

        Each candidate of `TUNING_GRID` (tree size, leaf size, L2 regularisation) is boosted
        `TUNING_ROUNDS` rounds on each fold's training part; the mean AUC of the held part after
        every round gives the early-stopping point. The best candidate and round count are then
        refitted on all training rows. Monotonic constraints follow the scorecard's classing:
        a numeric characteristic whose monotonic binning rises (falls) with risk is constrained
        to raise (lower) the risk; categorical codes are bad-rate ranks, so rising. Platt
        calibration is fitted on the candidate's out-of-fold margins (as scikit-learn's
        `CalibratedClassifierCV(ensemble=False)`), so no training row is held back from the
        trees. Small data (too few bads to tune) use the first candidate, with a 20% holdback
        for calibration; so does a caller that fixes `max_iter` (tests keep fits short)."""
        y = np.asarray(y, dtype=np.int64)
        features = list(columns)
        codes = {f: _category_codes(columns[f], y) for f in features if kinds[f] == CATEGORICAL}
        x = _matrix(columns, features, kinds, codes)
        monotonic = [_direction(columns[f], kinds[f], y) for f in features]
        if tune is None:
            tune = max_iter is None and _can_tune(y)
        if tune:
            candidate, rounds, oof = _tune(x, y, monotonic, seed)
            fit_rows, calib_margin, calib_y = np.arange(len(y)), oof, y
            calibration_note = f"platt on {TUNING_FOLDS}-fold out-of-fold margins"
        else:
            candidate, rounds = TUNING_GRID[-1], max_iter or SMALL_DATA_ROUNDS
            fit_rows, calib_rows = train_test_split(np.arange(len(y)), test_size=0.2,
                                                    stratify=y, random_state=seed)
            calibration_note = "platt, 20% stratified holdback"
        params = {**BOOST_FIXED, **candidate, "max_iter": int(rounds), "random_state": seed,
                  "monotonic_cst": monotonic}
        booster = HistGradientBoostingClassifier(**params).fit(x[fit_rows], y[fit_rows])
        trees = [_export(p[0].nodes) for p in booster._predictors]
        baseline = float(np.ravel(booster._baseline_prediction)[0])
        model = cls(target=target, features=features, kinds=kinds, codes=codes,
                    baseline=baseline, trees=trees, calibration={"a": 1.0, "b": 0.0},
                    scaling=scaling or Scaling(), grades=grades or DEFAULT_GRADES)
        margin = model.margin_matrix(x)
        if not np.allclose(margin, booster.decision_function(x), atol=1e-8):
            raise RuntimeError("exported trees disagree with scikit-learn: export needs review")
        if not tune:
            calib_margin, calib_y = margin[calib_rows], y[calib_rows]
        platt = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000, random_state=seed)
        platt.fit(np.asarray(calib_margin).reshape(-1, 1), calib_y)
        model.calibration = {"a": float(platt.coef_[0][0]), "b": float(platt.intercept_[0])}
        params["monotonic_cst"] = dict(zip(features, monotonic, strict=True))
        model.info = {"params": {**params, "tuned": bool(tune),
                                 "calibration": calibration_note}}
        return model

    # --- scoring -------------------------------------------------------------------------------

    def matrix(self, columns: dict) -> np.ndarray:
        missing = [f for f in self.features if f not in columns]
        if missing:
            raise ValueError(f"columns missing for scoring: {', '.join(missing)}")
        return _matrix(columns, self.features, self.kinds, self.codes)

    def margin_matrix(self, x: np.ndarray, contributions: bool = False):
        n = x.shape[0]
        margin = np.full(n, self.baseline)
        contrib = np.zeros((n, len(self.features))) if contributions else None
        for t in self._arrays:
            node = np.zeros(n, dtype=np.int64)
            margin += t["expected"][0]  # each tree's expectation at its root
            active = ~t["leaf"][node].astype(bool)
            while active.any():
                rows = np.flatnonzero(active)
                at = node[rows]
                value = x[rows, t["feature"][at]]
                go_left = np.where(np.isnan(value), t["missing_left"][at].astype(bool),
                                   value <= t["threshold"][at])
                child = np.where(go_left, t["left"][at], t["right"][at])
                step = t["expected"][child] - t["expected"][at]
                margin[rows] += step
                if contributions:
                    np.add.at(contrib, (rows, t["feature"][at]), step)
                node[rows] = child
                active[rows] = ~t["leaf"][child].astype(bool)
        return (margin, contrib) if contributions else margin

    def predict_proba(self, columns: dict) -> np.ndarray:
        margin = self.margin_matrix(self.matrix(columns))
        return _sigmoid(self.calibration["a"] * margin + self.calibration["b"])

    def predict(self, columns: dict, *, grades: list[list] | None = None,
                top_k: int = 3) -> list[dict]:
        grades = validate_grades(grades) if grades is not None else self.grades
        x = self.matrix(columns)
        margin, contrib = self.margin_matrix(x, contributions=True)
        log_odds = self.calibration["a"] * margin + self.calibration["b"]
        p_bad, scores = _sigmoid(log_odds), self.scaling.score_from_log_odds_bad(log_odds)
        # Calibration is monotone (a > 0), so the margin's attributions rank the reasons.
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :top_k]
        results = []
        for r in range(x.shape[0]):
            reasons = [{"feature": self.features[j], "attribute": _shown(columns, self, j, r),
                        "contribution": float(contrib[r, j])}
                       for j in order[r] if contrib[r, j] > 1e-9]
            score = float(scores[r])
            results.append({"probability": float(p_bad[r]), "score": score,
                            "grade": grade_for(score, grades), "reasons": reasons})
        return results

    # --- artefact ------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "kind": "gbm", "target": self.target,
                "features": self.features, "kinds": self.kinds, "codes": self.codes,
                "baseline": self.baseline, "trees": self.trees, "calibration": self.calibration,
                "scaling": {"base_score": self.scaling.base_score,
                            "base_odds": self.scaling.base_odds, "pdo": self.scaling.pdo},
                "grades": self.grades, "info": self.info}

    @classmethod
    def from_dict(cls, data) -> "GradientBoostingModel":
        """Validate the whole artefact; tree children must point forward, so evaluation ends."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ArtefactError(f"expected a {SCHEMA} artefact")
        try:
            features, kinds, codes = data["features"], data["kinds"], data["codes"]
            trees, s, calibration = data["trees"], data["scaling"], data["calibration"]
            scaling = Scaling(base_score=s["base_score"], base_odds=s["base_odds"],
                              pdo=s["pdo"])
            numbers = [data["baseline"], calibration["a"], calibration["b"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtefactError(f"malformed gbm artefact: {exc!r}") from None
        if not (isinstance(features, list) and features and set(kinds) == set(features)
                and all(kinds[f] in (NUMERIC, CATEGORICAL) for f in features)):
            raise ArtefactError("features and kinds must match, kinds numeric or categorical")
        if set(codes) != {f for f in features if kinds[f] == CATEGORICAL}:
            raise ArtefactError("every categorical feature needs its category codes")
        if not all(_is_number(v) for v in numbers) or not isinstance(trees, list) or not trees:
            raise ArtefactError("baseline, calibration and trees must be present and finite")
        if not calibration["a"] > 0:
            raise ArtefactError("calibration slope must be positive (risk must rise with margin)")
        for i, tree in enumerate(trees):
            _check_tree(tree, len(features), i)
        return cls(target=data.get("target", ""), features=features, kinds=kinds, codes=codes,
                   baseline=data["baseline"], trees=trees, calibration=calibration,
                   scaling=scaling, grades=data.get("grades"), info=data.get("info") or {})


def _check_tree(tree, n_features: int, i: int) -> None:
    if not isinstance(tree, dict) or set(tree) != set(TREE_FIELDS):
        raise ArtefactError(f"tree {i} must have exactly the fields {', '.join(TREE_FIELDS)}")
    size = len(tree["leaf"])
    if size == 0 or any(not isinstance(tree[k], list) or len(tree[k]) != size
                        for k in TREE_FIELDS):
        raise ArtefactError(f"tree {i}: every field needs one entry per node")
    for node in range(size):
        if not all(_is_number(tree[k][node]) for k in ("threshold", "value", "expected")):
            raise ArtefactError(f"tree {i} node {node}: numbers must be finite")
        if tree["leaf"][node] not in (0, 1) or tree["missing_left"][node] not in (0, 1):
            raise ArtefactError(f"tree {i} node {node}: flags must be 0 or 1")
        if not tree["leaf"][node]:
            if not (isinstance(tree["feature"][node], int)
                    and 0 <= tree["feature"][node] < n_features):
                raise ArtefactError(f"tree {i} node {node}: unknown feature")
            for child in (tree["left"][node], tree["right"][node]):
                if not (isinstance(child, int) and node < child < size):
                    raise ArtefactError(f"tree {i} node {node}: children must point forward")


def _export(nodes) -> dict:
    """Node arrays of one fitted tree → plain lists, with each node's expected margin."""
    n = len(nodes)
    leaf = nodes["is_leaf"].astype(int)
    expected = nodes["value"].astype(float).copy()
    count = nodes["count"].astype(float)
    for i in range(n - 1, -1, -1):  # children come after parents: fill bottom-up
        if not leaf[i]:
            left, right = nodes["left"][i], nodes["right"][i]
            total = count[left] + count[right]
            expected[i] = (count[left] * expected[left] + count[right] * expected[right]) / total
    return {"feature": [int(v) if not leaf[i] else 0 for i, v in enumerate(nodes["feature_idx"])],
            # "x <= +inf" (all present values left, missing right) is a real split; JSON has no
            # infinity, and inputs are finite, so the largest double means the same.
            "threshold": [float(np.clip(v, -_MAX, _MAX)) for v in nodes["num_threshold"]],
            "missing_left": nodes["missing_go_to_left"].astype(int).tolist(),
            "left": nodes["left"].astype(int).tolist(),
            "right": nodes["right"].astype(int).tolist(),
            "leaf": leaf.tolist(), "value": nodes["value"].astype(float).tolist(),
            "expected": expected.tolist()}


def _matrix(columns: dict, features: list[str], kinds: dict[str, str], codes: dict) -> np.ndarray:
    out = np.empty((len(columns[features[0]]), len(features)))
    for j, f in enumerate(features):
        if kinds[f] == NUMERIC:
            out[:, j] = np.asarray(columns[f], dtype=float)
        else:  # unseen categories are unknown to the trees: treat them as missing
            out[:, j] = [codes[f].get(v, np.nan) if v is not None else np.nan
                         for v in columns[f]]
    return out


def _shown(columns: dict, model: GradientBoostingModel, j: int, r: int) -> str:
    value = columns[model.features[j]][r]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
