"""Validation figures for a model version on its holdout (domain reference §7.3; Siddiqi ch. 11
"Scorecard development reports"): calibration table, grade default rates, score distribution, and
a plain benchmark — logistic regression on one-hot / standardised raw features, trained on the
same rows — so a scorecard or challenger is always compared with the simplest reasonable model.
"""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from apps.scoring.scorecard.binning import NUMERIC
from apps.scoring.scorecard.metrics import discrimination


def calibration_table(y, p_bad, bands: int = 10) -> list[dict]:
    """Predicted vs observed default rate per band of equal size, safest band first."""
    y, p_bad = np.asarray(y), np.asarray(p_bad, dtype=float)
    order = np.argsort(p_bad, kind="stable")
    rows = []
    for chunk in np.array_split(order, min(bands, len(order))):
        rows.append({"n": int(chunk.size), "predicted": round(float(p_bad[chunk].mean()), 6),
                     "observed": round(float(y[chunk].mean()), 6)})
    return rows


def grade_table(y, grades: list[str], order: list[str]) -> list[dict]:
    """Count and observed default rate per grade, in the grade cut-offs' order."""
    y, grades = np.asarray(y), np.asarray(grades)
    out = []
    for grade in order:
        inside = grades == grade
        n = int(inside.sum())
        out.append({"grade": grade, "n": n,
                    "bad_rate": round(float(y[inside].mean()), 6) if n else None})
    return out


def score_distribution(scores, bins: int = 10) -> list[dict]:
    counts, edges = np.histogram(np.asarray(scores, dtype=float), bins=bins)
    return [{"from": round(float(a), 2), "to": round(float(b), 2), "n": int(c)}
            for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)]


def _frame(columns: dict, names: list[str], kinds: dict[str, str]) -> np.ndarray:
    """An object matrix: numeric as float (NaN missing), categorical as text ("" missing)."""
    out = np.empty((len(columns[names[0]]), len(names)), dtype=object)
    for j, name in enumerate(names):
        if kinds[name] == NUMERIC:
            out[:, j] = np.asarray(columns[name], dtype=float)
        else:
            out[:, j] = ["" if v is None else v for v in columns[name]]
    return out


def onehot_lr_predict(train_columns: dict, y_train, test_columns: dict,
                      kinds: dict[str, str], seed: int = 0) -> np.ndarray:
    """PD from logistic regression on raw features: numeric median-imputed (with a missing
    indicator) and standardised, categorical one-hot (unseen categories ignored)."""
    names = list(train_columns)
    numeric = [j for j, n in enumerate(names) if kinds[n] == NUMERIC]
    categorical = [j for j, n in enumerate(names) if kinds[n] != NUMERIC]
    prepare = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                            keep_empty_features=True), StandardScaler()),
         numeric),
        ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
    ])
    model = make_pipeline(prepare, LogisticRegression(C=1.0, solver="lbfgs", max_iter=2000,
                                                      random_state=seed))
    model.fit(_frame(train_columns, names, kinds), np.asarray(y_train))
    return model.predict_proba(_frame(test_columns, names, kinds))[:, 1]


def onehot_benchmark(train_columns: dict, y_train, holdout_columns: dict, y_holdout,
                     kinds: dict[str, str], seed: int = 0) -> dict[str, float]:
    """AUC/KS/Gini of the one-hot logistic regression (`onehot_lr_predict`) on the holdout."""
    p = onehot_lr_predict(train_columns, y_train, holdout_columns, kinds, seed=seed)
    return {k: round(v, 6) for k, v in discrimination(y_holdout, p).items()}
