"""Training, registering and applying credit models (issue 6; domain reference §7.2–7.3).

The model core (`apps.scoring.scorecard`) knows nothing of Django; these services add the
registry, the audit trail and file handling around it, so the commands, and later the Celery
jobs and pages, share one path.
"""

import csv
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone
from sklearn.model_selection import train_test_split

from apps.audit.services import audit_record
from apps.scoring.models import ModelVersion
from apps.scoring.scorecard.data import DataError, Table, read_table, training_set_read
from apps.scoring.scorecard.data import to_column as _to_column
from apps.scoring.scorecard.gbm import GradientBoostingModel
from apps.scoring.scorecard.metrics import discrimination
from apps.scoring.scorecard.model import Scaling, Scorecard
from apps.scoring.scorecard.report import (
    calibration_table,
    grade_table,
    onehot_benchmark,
    score_distribution,
)
from apps.scoring.states import ModelKind

HOLDOUT_SHARE = 0.3
# Both load only from validated JSON (never pickle) and share fit / predict / to_json.
MODEL_CLASSES = {ModelKind.SCORECARD: Scorecard, ModelKind.GBM: GradientBoostingModel}


class ModelNotFound(LookupError):
    pass


def _take(column, rows: np.ndarray):
    return column[rows] if isinstance(column, np.ndarray) else [column[i] for i in rows]


def model_version_train(*, csv_path, target: str, actor=None, kind: str = ModelKind.SCORECARD,
                        seed: int = 0, version: str | None = None, bad_value: str | None = None,
                        exclude: tuple[str, ...] = (), scaling: Scaling | None = None,
                        grades: list[list] | None = None) -> tuple[ModelVersion, dict]:
    """Train a model on a CSV of historical loans, measure it on a stratified holdout and
    register it as a draft version, auditing `model.trained` in the same transaction.

    `kind` is the champion-style scorecard (scorecard/model.py) or the gradient-boosting
    challenger (scorecard/gbm.py). The holdout (30%, stratified on the target so its bad rate
    matches) is never seen by binning, boosting or regression: AUC, KS and Gini on it are honest
    out-of-sample figures (§7.3).
    """
    if kind not in MODEL_CLASSES:
        raise NotImplementedError(f"model kind {kind!r} is not available")
    if version and ModelVersion.objects.filter(version=version).exists():  # before the work
        raise DataError(f"model version {version!r} already exists; choose another label")
    data = training_set_read(csv_path=csv_path, target=target, bad_value=bad_value,
                              exclude=exclude)
    rows = np.arange(len(data.y))
    try:
        train, holdout = train_test_split(rows, test_size=HOLDOUT_SHARE, stratify=data.y,
                                          random_state=seed)
    except ValueError as exc:
        raise DataError(f"too few rows for a stratified holdout: {exc}") from None
    card = MODEL_CLASSES[kind].fit({n: _take(c, train) for n, c in data.columns.items()},
                                   data.kinds, data.y[train], target=target, seed=seed,
                                   scaling=scaling, grades=grades)
    holdout_columns = {n: _take(c, holdout) for n, c in data.columns.items()}
    scored = card.predict(holdout_columns, top_k=0)
    p_holdout = np.array([r["probability"] for r in scored])
    try:
        measured = discrimination(data.y[holdout], p_holdout)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    # The validation report (§7.3), with the plain one-hot logistic regression benchmark.
    report = {
        "calibration": calibration_table(data.y[holdout], p_holdout),
        "grades": grade_table(data.y[holdout], [r["grade"] for r in scored],
                              [g for g, _ in card.grades]),
        "score_distribution": score_distribution([r["score"] for r in scored]),
        "iv": {n: round(v, 6) for n, v in card.info.get("iv", {}).items()},
        "benchmark_onehot_lr": onehot_benchmark(
            {n: _take(c, train) for n, c in data.columns.items()}, data.y[train],
            holdout_columns, data.y[holdout], data.kinds, seed=seed),
    }
    artefact = card.to_json()
    sha = card.sha256
    version = version or f"{kind}-{timezone.now():%Y%m%d-%H%M%S}-{sha[:8]}"
    metrics = {key: round(value, 6) for key, value in measured.items()}
    metrics.update(n_train=int(len(train)), n_holdout=int(len(holdout)),
                   bad_rate_train=round(float(data.y[train].mean()), 6))
    summary = {**metrics, "version": version,
               "benchmark_onehot_lr_auc": report["benchmark_onehot_lr"]["auc"]}
    parameters = {**card.info["params"], "holdout_share": HOLDOUT_SHARE, "bad_value": bad_value,
                  "exclude": list(exclude), "dropped": card.info.get("dropped", {}),
                  "scaling": card.to_dict()["scaling"], "grades": card.grades}
    with transaction.atomic():
        if ModelVersion.objects.filter(version=version).exists():  # again: a concurrent run
            raise DataError(f"model version {version!r} already exists; choose another label")
        model_version = ModelVersion.objects.create(
            version=version, kind=kind, artefact=artefact, artefact_sha256=sha,
            training_data_sha256=data.table.fingerprint(), target=target,
            features=list(card.features), parameters=parameters,
            metrics={**metrics, "report": report},
            trained_by=actor if getattr(actor, "is_authenticated", False) else None)
        # Audit payloads take no floats (their text form is not canonical): metrics as strings.
        audit_record(action="model.trained", actor=actor, subject=model_version, payload={
            "version": version, "kind": kind, "artefact_sha256": sha,
            "training_data_sha256": model_version.training_data_sha256,
            "features": list(card.features),
            "metrics": {k: str(v) for k, v in metrics.items()},
        })
    return model_version, summary


def model_version_load(*, version: str):
    """The registered artefact, refused if its bytes no longer match the registered hash."""
    model_version = ModelVersion.objects.filter(version=version).first()
    if model_version is None:
        raise ModelNotFound(f"model version {version!r} is not registered")
    card = MODEL_CLASSES[model_version.kind].from_json(
        model_version.artefact, expected_sha256=model_version.artefact_sha256)
    return model_version, card


def scoring_columns(card, table: Table) -> dict:
    """Parse the model's characteristics from a CSV exactly as training did."""
    absent = [f for f in card.features if f not in table.header]
    if absent:
        raise DataError(f"columns missing for scoring: {', '.join(absent)}")
    kinds = card.feature_kinds
    return {f: _to_column(table.column(f), kinds[f], f) for f in card.features}


def csv_score(*, version: str, csv_path, out_path, id_column: str | None = None,
              top_k: int = 3, grades: list[list] | None = None) -> int:
    """Score every row of a CSV; write probability of default, score, grade and reason codes.

    Reading only (no audit): batch scoring of a file is an analyst's what-if, not a decision.
    `grades` replaces the version's grade cut-offs for this run (policy data, see §7.2 step 5).
    """
    _, card = model_version_load(version=version)
    table = read_table(csv_path)
    ids = table.column(id_column) if id_column else None
    results = card.predict(scoring_columns(card, table), top_k=top_k, grades=grades)
    header = ["row", *([id_column] if id_column else []), "probability", "score", "grade",
              *[f"reason_{i}" for i in range(1, top_k + 1)]]
    with Path(out_path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, result in enumerate(results):
            reasons = [r["feature"] for r in result["reasons"]]
            writer.writerow([i + 1, *([ids[i]] if ids else []), f"{result['probability']:.6f}",
                             f"{result['score']:.2f}", result["grade"],
                             *(reasons + [""] * (top_k - len(reasons)))])
    return len(results)
