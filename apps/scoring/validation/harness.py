"""The validation harness (issue #20): on each public data set, the product's scorecard and
challenger against two baselines trained in the same run on the same rows — logistic
regression on one-hot / standardised raw features, and LightGBM with its default settings —
on a fixed 70/30 stratified split and by stratified 5-fold cross-validation.

The product's models are fitted with the classes `train_model` uses (`MODEL_CLASSES[kind].fit`
via the same column parsing); nothing is registered and no database is touched. Targets are
judged on the cross-validated mean AUC, never on one split:

- scorecard: within 0.005 AUC of the best baseline;
- challenger: at or above the best baseline.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from apps.scoring.scorecard.binning import NUMERIC
from apps.scoring.scorecard.metrics import calibration_summary, discrimination
from apps.scoring.scorecard.report import onehot_lr_predict
from apps.scoring.services.training import HOLDOUT_SHARE, MODEL_CLASSES, _take
from apps.scoring.states import ModelKind

PRODUCT = {"scorecard": ModelKind.SCORECARD, "challenger": ModelKind.GBM}
BASELINES = ("onehot_lr", "lightgbm")
MODELS = (*PRODUCT, *BASELINES)
SCORECARD_TOLERANCE = 0.005


def lightgbm_predict(train: dict, y_train, test: dict, kinds: dict[str, str],
                     seed: int = 0) -> np.ndarray:
    """LightGBM with its defaults (the baseline a modeller would try first); categorical
    columns as LightGBM categoricals coded on the training rows, unseen categories missing."""
    import lightgbm

    names = list(train)
    codes = {n: {c: i for i, c in enumerate(sorted({v for v in train[n] if v is not None}))}
             for n in names if kinds[n] != NUMERIC}

    def matrix(columns):
        out = np.empty((len(columns[names[0]]), len(names)))
        for j, n in enumerate(names):
            if kinds[n] == NUMERIC:
                out[:, j] = np.asarray(columns[n], dtype=float)
            else:
                out[:, j] = [codes[n].get(v, np.nan) if v is not None else np.nan
                             for v in columns[n]]
        return out

    model = lightgbm.LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1)
    model.fit(matrix(train), np.asarray(y_train),
              categorical_feature=[j for j, n in enumerate(names) if n in codes] or "auto")
    return model.predict_proba(matrix(test))[:, 1]


def _predict(model: str, train: dict, y_train, test: dict, kinds, seed: int) -> np.ndarray:
    if model in PRODUCT:
        fitted = MODEL_CLASSES[PRODUCT[model]].fit(train, kinds, y_train, target="y", seed=seed)
        return np.asarray(fitted.predict_proba(test), dtype=float)
    if model == "onehot_lr":
        return onehot_lr_predict(train, y_train, test, kinds, seed=seed)
    return lightgbm_predict(train, y_train, test, kinds, seed=seed)


def evaluate_split(data, train_rows, test_rows, seed: int) -> dict[str, dict]:
    """Every model fitted on `train_rows` and measured on `test_rows`."""
    train = {n: _take(c, train_rows) for n, c in data.columns.items()}
    test = {n: _take(c, test_rows) for n, c in data.columns.items()}
    y_train, y_test = data.y[train_rows], data.y[test_rows]
    out = {}
    for model in MODELS:
        started = time.perf_counter()
        p = _predict(model, train, y_train, test, data.kinds, seed)
        measured = discrimination(y_test, p)
        out[model] = {"auc": measured["auc"], "ks": measured["ks"],
                      **calibration_summary(y_test, p),
                      "seconds": time.perf_counter() - started}
    return out


def _summary(folds: list[dict]) -> dict:
    keys = ("auc", "ks", "brier", "ece", "mean_predicted", "observed", "seconds")
    return {m: {k: {"mean": float(np.mean([f[m][k] for f in folds])),
                    "sd": float(np.std([f[m][k] for f in folds]))} for k in keys}
            for m in MODELS}


def verdict(aucs: dict[str, float]) -> dict:
    """Targets on one set of AUCs (the cross-validated means)."""
    best_name = max(BASELINES, key=lambda b: aucs[b])
    best = aucs[best_name]
    return {"best_baseline": best_name, "best_baseline_auc": best,
            "scorecard_gap": aucs["scorecard"] - best,
            "scorecard_met": aucs["scorecard"] >= best - SCORECARD_TOLERANCE,
            "challenger_gap": aucs["challenger"] - best,
            "challenger_met": aucs["challenger"] >= best}


def run(data, *, seed: int = 0, folds: int = 5) -> dict:
    """The fixed holdout and the cross-validation for one data set."""
    rows = np.arange(len(data.y))
    train, holdout = train_test_split(rows, test_size=HOLDOUT_SHARE, stratify=data.y,
                                      random_state=seed)
    fixed = evaluate_split(data, train, holdout, seed)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    per_fold = [evaluate_split(data, tr, te, seed)
                for tr, te in splitter.split(np.zeros(len(data.y)), data.y)]
    cv = _summary(per_fold)
    return {"rows": int(len(data.y)), "bad_rate": float(data.y.mean()),
            "characteristics": len(data.columns), "seed": seed, "folds": folds,
            "holdout_share": HOLDOUT_SHARE, "holdout": fixed, "cross_validation": cv,
            "fold_auc": {m: [f[m]["auc"] for f in per_fold] for m in MODELS},
            "verdict": verdict({m: cv[m]["auc"]["mean"] for m in MODELS})}
