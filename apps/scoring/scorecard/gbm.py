"""Challenger model: gradient boosting with calibrated probabilities and per-feature reasons
(issue 6 "Challenger", issue 20 "a challenger that wins").

Boosting: Newton boosting of the logistic loss (`_Newton`), scikit-learn regression trees as
base learners, from a constant or from a linear start (ridge logistic regressions on the
standardised numbers, the scorecard's coarse classes of the numbers and one-hot categories,
averaged over their forms and L2 strengths), tuned by cross-validation on the training rows
only (`_tune`, `_choose`; docs/scoring/champion-and-challengers.md): the folds choose the
candidate and its number of rounds — from the linear start 0 rounds, the start alone, is a
candidate too — and prefer fewer rounds unless more earn `TUNING_TOLERANCE` AUC.

Inputs: numeric columns as they are (missing values go down the branch the trees learnt for
them); categorical columns coded by their training bad rate (rank, so splits on the code group
similar-risk categories; categories unseen in training are treated as missing).

Probabilities: boosting margins are not calibrated, so a Platt sigmoid p = σ(a·margin + b) is
fitted on out-of-fold margins (or, untuned, on a 20% holdback) (Platt 1999; scikit-learn's
`CalibratedClassifierCV(method="sigmoid")` does the same with cross-validation).

Reasons: per-feature contributions by path attribution (Saabas): every split on the way to a
leaf moves the expected margin from the node's expectation to the child's, and that move is
credited to the split feature; a linear start's term counts as its deviation from the training
mean. So base + Σ contributions equals the margin exactly. The features that raise the margin
(the risk) most are the reason codes.

Artefact: the linear terms and the trees are exported to plain JSON (feature, threshold, missing
direction, children, leaf value) and evaluated here with numpy — no pickle, so loading a file
can never run code. `fit` checks the exported model reproduces the fitted margins before
returning.
"""

import math

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor

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


# Newton boosting settings; the grid below is searched by cross-validation on training rows.
LEARNING_RATE = 0.1
# Each candidate: where boosting starts (a constant, or a ridge logistic regression on the
# standardised numbers and one-hot categories — the "linear start"), tree size and leaf size.
# Stumps build an additive model (one shape function per characteristic, like a scorecard with
# fine bins); deeper trees add interactions where the data carry them. From the linear start
# the trees only correct what a straight line in each characteristic misses.
# A candidate may shrink its steps below LEARNING_RATE ("learning_rate"): slower, smaller
# corrections of the linear start, for data where it is already close to right. From the linear
# start, 0 rounds (the start alone) is a candidate too: the folds decide whether trees help.
TUNING_GRID: list[dict] = [
    {"start": "constant", "max_leaf_nodes": 2, "min_samples_leaf": 20},
    {"start": "constant", "max_leaf_nodes": 4, "min_samples_leaf": 40},
    {"start": "linear", "max_leaf_nodes": 2, "min_samples_leaf": 40},
    {"start": "linear", "max_leaf_nodes": 2, "min_samples_leaf": 80, "learning_rate": 0.03},
]
TUNING_ROUNDS = 200
TUNING_PATIENCE = 30  # early stopping: rounds without a better mean fold AUC
# Fewer rounds win unless more improve the folds' mean AUC by more than this (as the
# scorecard's classing: a finer model must earn its extra parts).
TUNING_TOLERANCE = 0.001
TUNING_FOLDS = 5
SMALL_DATA_ROUNDS = 150
SMALL_DATA_CANDIDATE = TUNING_GRID[1]
TUNING_MIN_BADS = 60  # per class: fewer and fold AUCs rank candidates by noise
# The linear start is a ridge logistic regression. What it sees of a number: the standardised
# value ("raw"), one-hot indicators of the scorecard's monotonic coarse classes ("bins", as
# `binning.fit_numeric` classes it on the same rows), or both ("raw+bins"); categories are
# always one-hot. "average" is the equal-weight average of the raw and the bins fits at every
# inverse L2 strength of LINEAR_C_GRID — itself a linear model (averaged coefficients). On
# small data, picking one form and one C by the folds' AUC picks fold noise (German credit:
# the pick scored 0.01 AUC below a fixed C in the outer folds); the average does not pick.
LINEAR_C_GRID = (0.05, 0.2, 1.0)
LINEAR_C = 1.0  # the one-hot baseline's setting, for single fits
LINEAR_FORMS = ("raw", "bins", "raw+bins", "average")
# The linear starts the folds choose among (form, C): one, so there is nothing to pick.
LINEAR_STARTS = (("average", None),)
LINEAR_FORM = "raw"  # untuned fits (small data, tests) keep the one-hot baseline's start
MIN_HESSIAN = 1e-6


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


def _take(column, rows):
    return column[rows] if isinstance(column, np.ndarray) else [column[i] for i in rows]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


# --- the linear start -----------------------------------------------------------------------

def _fit_linear(x: np.ndarray, y: np.ndarray, kinds: list[str], n_codes: list[int],
                seed: int, c: float = LINEAR_C, form: str = LINEAR_FORM) -> dict:
    """Ridge logistic regression on the model matrix: numbers median-imputed (with a missing
    indicator where training rows miss them) and, per `form`, standardised and/or one-hot in
    their monotonic coarse classes; category codes one-hot (codes unseen in training, i.e.
    missing, weigh 0). Returned as JSON terms, one per feature, each with its training mean so
    that contributions are deviations from the average row."""
    from apps.scoring.scorecard.binning import fit_numeric

    if form == "average":
        return _average_linear([_fit_linear(x, y, kinds, n_codes, seed, grid_c, one)
                                for one in ("raw", "bins") for grid_c in LINEAR_C_GRID],
                               kinds, x)
    raw, binned = form in ("raw", "raw+bins"), form in ("bins", "raw+bins")
    blocks, layout = [], []
    for j, kind in enumerate(kinds):
        v = x[:, j]
        miss = np.isnan(v)
        if kind == NUMERIC:
            median = float(np.median(v[~miss])) if (~miss).any() else 0.0
            filled = np.where(miss, median, v)
            center, scale = float(filled.mean()), float(filled.std())
            scale = scale if scale > 1e-12 else 1.0
            if raw:
                blocks.append(((filled - center) / scale)[:, None])
            has_missing = bool(miss.any())
            if has_missing:
                blocks.append(miss[:, None].astype(float))
            splits = fit_numeric("x", v, y).splits if binned else None
            if binned:
                onehot = np.zeros((len(v), len(splits) + 1))
                onehot[np.arange(len(v)), np.searchsorted(splits, filled, side="left")] = 1.0
                blocks.append(onehot)
            layout.append({"median": median, "center": center, "scale": scale,
                           "missing": has_missing, "splits": splits})
        else:
            onehot = np.zeros((len(v), n_codes[j]))
            seen = ~miss
            onehot[np.flatnonzero(seen), v[seen].astype(int)] = 1.0
            blocks.append(onehot)
            layout.append({"codes": n_codes[j]})
    design = np.hstack(blocks) if blocks else np.zeros((len(y), 0))
    lr = LogisticRegression(C=c, solver="lbfgs", max_iter=2000, random_state=seed)
    lr.fit(design, y)
    coef, at, terms = lr.coef_[0], 0, []
    for kind, spec in zip(kinds, layout, strict=True):
        if kind == NUMERIC:
            term = {"median": spec["median"], "center": spec["center"],
                    "scale": spec["scale"], "coef": 0.0, "missing_coef": 0.0}
            if raw:
                term["coef"] = float(coef[at])
                at += 1
            if spec["missing"]:
                term["missing_coef"] = float(coef[at])
                at += 1
            if spec["splits"] is not None:
                size = len(spec["splits"]) + 1
                term["splits"] = [float(s) for s in spec["splits"]]
                term["bin_weights"] = [float(w) for w in coef[at:at + size]]
                at += size
        else:
            term = {"weights": [float(w) for w in coef[at:at + spec["codes"]]]}
            at += spec["codes"]
        terms.append(term)
    assert at == len(coef)
    linear = {"intercept": float(lr.intercept_[0]), "terms": terms}
    raw = _linear_raw(linear, kinds, x)
    for term, column in zip(terms, raw.T, strict=True):
        term["mean"] = float(column.mean())
    return linear


def _average_linear(fits: list[dict], kinds: list[str], x: np.ndarray) -> dict:
    """The equal-weight average of linear starts fitted on the same rows: their margins'
    average is one linear model whose weights are the averaged weights (numbers' medians,
    scales and coarse classes are the same in every fit; a fit without a part weighs it 0)."""
    terms = []
    for j, kind in enumerate(kinds):
        parts = [fit["terms"][j] for fit in fits]
        if kind == NUMERIC:
            term = {k: parts[0][k] for k in ("median", "center", "scale")}
            term["coef"] = float(np.mean([t["coef"] for t in parts]))
            term["missing_coef"] = float(np.mean([t["missing_coef"] for t in parts]))
            binned = [t for t in parts if "splits" in t]
            if binned:
                term["splits"] = binned[0]["splits"]
                term["bin_weights"] = [float(w) for w in np.sum(
                    [t["bin_weights"] for t in binned], axis=0) / len(parts)]
        else:
            term = {"weights": [float(w) for w in np.mean([t["weights"] for t in parts],
                                                           axis=0)]}
        terms.append(term)
    linear = {"intercept": float(np.mean([fit["intercept"] for fit in fits])), "terms": terms}
    for term, column in zip(terms, _linear_raw(linear, kinds, x).T, strict=True):
        term["mean"] = float(column.mean())
    return linear


def _scaled_linear(terms: list[dict], weight: float) -> dict:
    """The linear start's terms times `weight` (a member's share of an averaged margin)."""
    out = []
    for term in terms:
        if "weights" in term:
            out.append({"weights": [w * weight for w in term["weights"]],
                        "mean": term["mean"] * weight})
        else:
            scaled = {**term, "coef": term["coef"] * weight,
                      "missing_coef": term["missing_coef"] * weight,
                      "mean": term["mean"] * weight}
            if "bin_weights" in term:
                scaled["bin_weights"] = [w * weight for w in term["bin_weights"]]
            out.append(scaled)
    return {"terms": out}


def _linear_raw(linear: dict, kinds: list[str], x: np.ndarray) -> np.ndarray:
    """Each feature's term of the linear start (before centring), one column per feature."""
    out = np.empty(x.shape)
    for j, (kind, term) in enumerate(zip(kinds, linear["terms"], strict=True)):
        v = x[:, j]
        miss = np.isnan(v)
        if kind == NUMERIC:
            filled = np.where(miss, term["median"], v)
            z = (filled - term["center"]) / term["scale"]
            out[:, j] = term["coef"] * z + term["missing_coef"] * miss
            if "bin_weights" in term:  # the coarse class of the (imputed) value
                at = np.searchsorted(np.asarray(term["splits"], dtype=float), filled,
                                     side="left")
                out[:, j] += np.asarray(term["bin_weights"], dtype=float)[at]
        else:
            weights = np.append(np.asarray(term["weights"], dtype=float), 0.0)
            out[:, j] = weights[np.where(miss, len(weights) - 1, v).astype(np.int64)]
    return out


def _linear_margin(linear: dict, kinds: list[str], x: np.ndarray) -> np.ndarray:
    return linear["intercept"] + _linear_raw(linear, kinds, x).sum(axis=1)


# --- Newton boosting --------------------------------------------------------------------------

class _Newton:
    """Gradient boosting of the logistic loss from any starting margin (second-order, as
    XGBoost): each round fits a regression tree to −g/h with sample weights h (g = p − y,
    h = p(1 − p)), whose weighted variance reduction is the Newton gain Σg²/Σh and whose leaf
    values are the Newton steps −Σg/Σh; the step is shrunk by the learning rate. Monotonic
    constraints are scikit-learn's tree constraints, so every tree — and the sum — is monotonic
    in each constrained characteristic."""

    def __init__(self, x, y, offset, candidate: dict, monotonic: list[int], seed: int):
        self.x, self.y, self.margin = x, y, np.array(offset, dtype=float)
        self.rate = float(candidate.get("learning_rate", LEARNING_RATE))
        self.params = {"max_leaf_nodes": candidate["max_leaf_nodes"],
                       "min_samples_leaf": candidate["min_samples_leaf"],
                       "random_state": seed,
                       "monotonic_cst": monotonic if any(monotonic) else None}
        self.trees: list = []

    def step(self):
        p = _sigmoid(self.margin)
        h = np.maximum(p * (1 - p), MIN_HESSIAN)
        tree = DecisionTreeRegressor(**self.params).fit(self.x, (self.y - p) / h,
                                                        sample_weight=h)
        self.margin += self.rate * tree.predict(self.x)
        self.trees.append(tree)
        return tree


def _prepare(columns: dict, kinds: dict[str, str], y, features: list[str], seed: int,
             linear: bool, c: float = LINEAR_C, form: str = LINEAR_FORM):
    """Category codes, model matrix and (if asked) the linear start fitted on these rows."""
    codes = {f: _category_codes(columns[f], y) for f in features if kinds[f] == CATEGORICAL}
    x = _matrix(columns, features, kinds, codes)
    kind_list = [kinds[f] for f in features]
    start = (_fit_linear(x, y, kind_list, [len(codes.get(f, ())) for f in features], seed, c,
                         form) if linear else None)
    return codes, x, start


def _offset(start: dict | None, kinds: list[str], x: np.ndarray, y_train) -> np.ndarray:
    if start is None:
        return np.full(x.shape[0], _logit(float(np.mean(y_train))))
    return _linear_margin(start, kinds, x)


def _tune(columns: dict, kinds: dict[str, str], y: np.ndarray, features: list[str],
          monotonic: list[int], seed: int):
    """Per candidate: (candidate, rounds, out-of-fold margins at that round, mean fold AUC).

    Every fold's category codes and linear start are fitted on that fold's training part only,
    so the held part is scored as unseen data. Candidates boost in lockstep across the folds
    and stop when the mean held-out AUC has not improved for `TUNING_PATIENCE` rounds; the
    round kept is the earliest within `TUNING_TOLERANCE` of the best."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    kind_list = [kinds[f] for f in features]
    splitter = StratifiedKFold(n_splits=TUNING_FOLDS, shuffle=True, random_state=seed)
    folds = []
    for train, test in splitter.split(np.zeros(len(y)), y):
        part = {f: _take(columns[f], train) for f in features}
        codes, x_train, _start = _prepare(part, kinds, y[train], features, seed, linear=False)
        x_test = _matrix({f: _take(columns[f], test) for f in features}, features, kinds, codes)
        n_codes = [len(codes.get(f, ())) for f in features]
        starts = {(form, c): _fit_linear(x_train, y[train], kind_list, n_codes, seed,
                                         c or LINEAR_C, form)
                  for form, c in LINEAR_STARTS}
        folds.append({"train": train, "test": test, "x_train": x_train, "x_test": x_test,
                      "offsets": {
                          "constant": (_offset(None, kind_list, x_train, y[train]),
                                       _offset(None, kind_list, x_test, y[train])),
                          **{("linear", *key): (_offset(s, kind_list, x_train, y[train]),
                                                _offset(s, kind_list, x_test, y[train]))
                             for key, s in starts.items()}}})
    # The linear start's form and L2 strength: the best mean held-out AUC of the start alone
    # (ties go to the first listed).
    form_best, c_best = max(starts, key=lambda key: np.mean(
        [roc_auc_score(y[f["test"]], f["offsets"][("linear", *key)][1]) for f in folds]))
    for fold in folds:
        fold["offsets"]["linear"] = fold["offsets"][("linear", form_best, c_best)]
    results = []
    for candidate in TUNING_GRID:
        boosters, held = [], []
        rate = float(candidate.get("learning_rate", LEARNING_RATE))
        for fold in folds:
            train_offset, test_offset = fold["offsets"][candidate["start"]]
            boosters.append(_Newton(fold["x_train"], y[fold["train"]], train_offset,
                                    candidate, monotonic, seed))
            held.append(test_offset.copy())
        # Running bests (round, out-of-fold margins, mean held-out AUC) within
        # TUNING_TOLERANCE of the best so far; the earliest is chosen (fewest rounds; from the
        # linear start, round 0 is the start alone).
        kept, top, since = [], -1.0, 0
        for round_ in range(0 if candidate["start"] == "linear" else 1, TUNING_ROUNDS + 1):
            if round_:
                for booster, fold, margins in zip(boosters, folds, held, strict=True):
                    margins += rate * booster.step().predict(fold["x_test"])
            auc = float(np.mean([roc_auc_score(y[f["test"]], m)
                                 for f, m in zip(folds, held, strict=True)]))
            if auc > top + 1e-12:
                top, since = auc, 0
                oof = np.empty(len(y))
                for f, m in zip(folds, held, strict=True):
                    oof[f["test"]] = m
                kept = [k for k in kept if k[2] >= top - TUNING_TOLERANCE] + [(round_, oof, auc)]
            else:
                since += 1
                if since >= TUNING_PATIENCE:
                    break
        if candidate["start"] == "linear":
            candidate = {**candidate, "linear_c": c_best, "linear_form": form_best}
        results.append((candidate, *kept[0]))
    return results


def _choose(results: list, y: np.ndarray):
    """The members of the challenger and their out-of-fold margins: the best single candidate,
    or the average of the best from a constant start and the best from the linear start when
    that average's out-of-fold AUC is higher (the two err differently on small data)."""
    from sklearn.metrics import roc_auc_score

    best = max(results, key=lambda r: r[3])
    options = [([best], best[2], best[3])]
    by_start = {}
    for r in results:
        if r[3] > by_start.get(r[0]["start"], (None, 0, None, -1.0))[3]:
            by_start[r[0]["start"]] = r
    if len(by_start) == 2:
        pair = list(by_start.values())
        oof = (pair[0][2] + pair[1][2]) / 2
        options.append((pair, oof, float(roc_auc_score(y, oof))))
    return max(options, key=lambda o: o[2])


class GradientBoostingModel(JsonArtefact):
    """Exported boosted trees + Platt calibration + PDO scaling, evaluated without scikit-learn."""

    def __init__(self, *, target: str, features: list[str], kinds: dict[str, str],
                 codes: dict[str, dict[str, int]], baseline: float, trees: list[dict],
                 calibration: dict, scaling: Scaling, grades: list[list],
                 info: dict | None = None, linear: dict | None = None):
        self.target, self.features, self.kinds = target, list(features), dict(kinds)
        self.codes, self.baseline, self.trees = codes, float(baseline), trees
        self.calibration = {"a": float(calibration["a"]), "b": float(calibration["b"])}
        self.scaling, self.grades, self.info = scaling, validate_grades(grades), info or {}
        self.linear = linear
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

        Each candidate of `TUNING_GRID` (start, tree size, leaf size) is boosted on each fold's
        training part, up to `TUNING_ROUNDS` rounds with early stopping on the folds' mean
        held-out AUC. The best candidate and round count are then refitted on all training
        rows. Monotonic constraints follow the scorecard's classing: a numeric characteristic
        whose monotonic binning rises (falls) with risk is constrained to raise (lower) the
        risk; categorical codes are bad-rate ranks, so rising. Platt calibration is fitted on
        the candidate's out-of-fold margins (as scikit-learn's
        `CalibratedClassifierCV(ensemble=False)`), so no training row is held back from the
        trees. Small data (too few bads to tune) use `SMALL_DATA_CANDIDATE`, with a 20%
        holdback for calibration; so does a caller that fixes `max_iter` (tests keep fits
        short)."""
        y = np.asarray(y, dtype=np.int64)
        features = list(columns)
        kind_list = [kinds[f] for f in features]
        monotonic = [_direction(columns[f], kinds[f], y) for f in features]
        if tune is None:
            tune = max_iter is None and _can_tune(y)
        cv_auc = None
        if tune:
            members, calib_margin, cv_auc = _choose(
                _tune(columns, kinds, y, features, monotonic, seed), y)
            members = [(m[0], m[1]) for m in members]
            fit_rows, calib_y = np.arange(len(y)), y
            calibration_note = f"platt on {TUNING_FOLDS}-fold out-of-fold margins"
        else:
            members = [(SMALL_DATA_CANDIDATE, max_iter or SMALL_DATA_ROUNDS)]
            fit_rows, calib_rows = train_test_split(np.arange(len(y)), test_size=0.2,
                                                    stratify=y, random_state=seed)
            calibration_note = "platt, 20% stratified holdback"
        # Codes and the linear start come from the rows the trees learn from.
        part = {f: _take(columns[f], fit_rows) for f in features}
        own_start = next((c for c, _ in members if c["start"] == "linear"), None)
        codes, x_fit, start = _prepare(
            part, kinds, y[fit_rows], features, seed, linear=own_start is not None,
            c=(own_start or {}).get("linear_c") or LINEAR_C,
            form=(own_start or {}).get("linear_form", LINEAR_FORM))
        weight = 1.0 / len(members)  # members' margins are averaged
        trees, baseline, linear = [], 0.0, None
        expected_margin = np.zeros(len(fit_rows))
        for candidate, rounds in members:
            own = start if candidate["start"] == "linear" else None
            booster = _Newton(x_fit, y[fit_rows], _offset(own, kind_list, x_fit, y[fit_rows]),
                              candidate, monotonic, seed)
            for _ in range(int(rounds)):
                booster.step()
            trees += [_export(t, booster.rate * weight) for t in booster.trees]
            expected_margin += weight * booster.margin
            if own is None:
                baseline += weight * _logit(float(np.mean(y[fit_rows])))
            else:
                linear = _scaled_linear(own["terms"], weight)
                baseline += weight * (own["intercept"] + sum(t["mean"] for t in own["terms"]))
        model = cls(target=target, features=features, kinds=kinds, codes=codes,
                    baseline=baseline, trees=trees, calibration={"a": 1.0, "b": 0.0},
                    scaling=scaling or Scaling(), grades=grades or DEFAULT_GRADES,
                    linear=linear)
        if not np.allclose(model.margin_matrix(x_fit), expected_margin, atol=1e-8):
            raise RuntimeError("exported trees disagree with the fitted ones: export needs review")
        if not tune:
            calib_margin = model.margin_matrix(model.matrix(
                {f: _take(columns[f], calib_rows) for f in features}))
            calib_y = y[calib_rows]
        platt = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000, random_state=seed)
        platt.fit(np.asarray(calib_margin).reshape(-1, 1), calib_y)
        model.calibration = {"a": float(platt.coef_[0][0]), "b": float(platt.intercept_[0])}
        params = {"learning_rate": LEARNING_RATE,
                  "members": [{**c, "rounds": int(r)} for c, r in members],
                  "random_state": seed,
                  "monotonic_cst": dict(zip(features, monotonic, strict=True)),
                  "tuned": bool(tune), "calibration": calibration_note}
        if cv_auc is not None:
            params["tuning_cv_auc"] = round(cv_auc, 6)
        model.info = {"params": params}
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
        if self.linear is not None:  # the linear start: each term's deviation from its mean
            terms = _linear_raw(self.linear, [self.kinds[f] for f in self.features], x)
            terms -= np.array([t["mean"] for t in self.linear["terms"]])
            margin += terms.sum(axis=1)
            if contributions:
                contrib += terms
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
                "grades": self.grades, "info": self.info, "linear": self.linear}

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
        linear = data.get("linear")
        # No trees is a model only with a linear start (the folds chose 0 boosting rounds).
        if not all(_is_number(v) for v in numbers) or not isinstance(trees, list) \
                or not (trees or linear is not None):
            raise ArtefactError("baseline, calibration and trees must be present and finite")
        if not calibration["a"] > 0:
            raise ArtefactError("calibration slope must be positive (risk must rise with margin)")
        for i, tree in enumerate(trees):
            _check_tree(tree, len(features), i)
        if linear is not None:
            _check_linear(linear, features, kinds, codes)
        return cls(target=data.get("target", ""), features=features, kinds=kinds, codes=codes,
                   baseline=data["baseline"], trees=trees, calibration=calibration,
                   scaling=scaling, grades=data.get("grades"), info=data.get("info") or {},
                   linear=linear)


def _check_linear(linear, features: list[str], kinds: dict, codes: dict) -> None:
    """The linear start: one term per feature, finite numbers, one weight per category code."""
    terms = linear.get("terms") if isinstance(linear, dict) else None
    if not isinstance(terms, list) or len(terms) != len(features):
        raise ArtefactError("the linear start needs one term per feature")
    for f, term in zip(features, terms, strict=True):
        if not isinstance(term, dict):
            raise ArtefactError(f"linear term of {f}: malformed")
        if kinds[f] == NUMERIC:
            keys = ("median", "center", "scale", "coef", "missing_coef", "mean")
            if set(term) - {"splits", "bin_weights"} != set(keys) \
                    or not all(_is_number(term[k]) for k in keys) or not term["scale"] > 0:
                raise ArtefactError(f"linear term of {f}: needs finite {', '.join(keys)}, "
                                    "scale > 0")
            if ("splits" in term) != ("bin_weights" in term):
                raise ArtefactError(f"linear term of {f}: splits and bin weights go together")
            if "splits" in term:
                splits, weights = term["splits"], term["bin_weights"]
                if not (isinstance(splits, list) and isinstance(weights, list)
                        and len(weights) == len(splits) + 1
                        and all(_is_number(v) for v in splits + weights)
                        and all(a < b for a, b in zip(splits[:-1], splits[1:], strict=True))):
                    raise ArtefactError(f"linear term of {f}: needs increasing finite splits "
                                        "and one finite weight per class")
        else:
            weights = term.get("weights")
            if set(term) != {"weights", "mean"} or not _is_number(term["mean"]) \
                    or not isinstance(weights, list) or len(weights) != len(codes[f]) \
                    or not all(_is_number(w) for w in weights):
                raise ArtefactError(f"linear term of {f}: needs one finite weight per category")


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


def _export(tree, rate: float) -> dict:
    """One fitted scikit-learn regression tree → plain lists, values scaled by the learning
    rate. Nodes are numbered as built, so children come after their parent; every node's value
    is the (hessian-weighted) Newton step of the rows that reach it, its expected margin."""
    t = tree.tree_
    leaf = (t.children_left == -1).astype(int)
    value = (t.value[:, 0, 0] * rate).astype(float).tolist()
    internal = [i for i in range(t.node_count) if not leaf[i]]
    feature, threshold = [0] * t.node_count, [0.0] * t.node_count
    left, right, missing_left = [0] * t.node_count, [0] * t.node_count, [0] * t.node_count
    for i in internal:
        # "x <= +inf" (every present value left, missing right) is a real split; JSON has
        # no infinity and inputs are finite, so the largest double means the same.
        feature[i], threshold[i] = int(t.feature[i]), float(np.clip(t.threshold[i], -_MAX, _MAX))
        left[i], right[i] = int(t.children_left[i]), int(t.children_right[i])
        missing_left[i] = int(t.missing_go_to_left[i])
    return {"feature": feature, "threshold": threshold, "missing_left": missing_left,
            "left": left, "right": right, "leaf": leaf.tolist(), "value": value,
            "expected": list(value)}


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
