"""Training, registering and applying credit models (issue 6; domain reference §7.2–7.3).

The model core (`apps.scoring.scorecard`) knows nothing of Django; these services add the
registry, the audit trail and file handling around it, so the commands, and later the Celery
jobs and pages, share one path.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone
from sklearn.model_selection import train_test_split

from apps.audit.services import audit_record
from apps.scoring.drift import training_profile
from apps.scoring.models import ModelVersion
from apps.scoring.scorecard.batch import predict_arrays
from apps.scoring.scorecard.binning import CATEGORICAL
from apps.scoring.scorecard.data import (
    DataError,
    Table,
    TrainingData,
    read_table,
    training_set_read,
)
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


@dataclass
class Fitted:
    """A model fitted and measured on its holdout, ready to register."""

    model: object
    metrics: dict
    report: dict
    profile: dict
    parameters: dict
    training_data_sha256: str


def model_fit(data: TrainingData, *, target: str, kind: str = ModelKind.SCORECARD,
              seed: int = 0, bad_value: str | None = None, exclude: tuple[str, ...] = (),
              scaling: Scaling | None = None, grades: list[list] | None = None,
              progress=None) -> Fitted:
    """Fit on a stratified 70% and measure on the 30% holdout, with the validation report.

    `kind` is the champion-style scorecard (scorecard/model.py) or the gradient-boosting
    challenger (scorecard/gbm.py). The holdout (stratified on the target so its bad rate
    matches) is never seen by binning, boosting or regression: AUC, KS and Gini on it are honest
    out-of-sample figures (§7.3). No database: the CSV command, training from applications and
    the shipped default model all come through here.
    """
    if kind not in MODEL_CLASSES:
        raise NotImplementedError(f"model kind {kind!r} is not available")
    rows = np.arange(len(data.y))
    try:
        train, holdout = train_test_split(rows, test_size=HOLDOUT_SHARE, stratify=data.y,
                                          random_state=seed)
    except ValueError as exc:
        raise DataError(f"too few rows for a stratified holdout: {exc}") from None
    report_progress = progress or (lambda percent, stage: None)
    report_progress(20, "fitting")
    train_columns = {n: _take(c, train) for n, c in data.columns.items()}
    card = MODEL_CLASSES[kind].fit(train_columns, data.kinds, data.y[train], target=target,
                                   seed=seed, scaling=scaling, grades=grades)
    report_progress(60, "validating")
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
        "benchmark_onehot_lr": onehot_benchmark(train_columns, data.y[train], holdout_columns,
                                                data.y[holdout], data.kinds, seed=seed),
        "segments": {name: segment_auc(data.y[holdout], p_holdout, holdout_columns[name])
                     for name in SEGMENT_COLUMNS if data.kinds.get(name) == CATEGORICAL},
    }
    # The drift baseline (§7.3): scores and feature bands of the rows the model learnt from.
    profile = training_profile(
        scores=predict_arrays(card, train_columns, top_k=0).score, columns=train_columns,
        kinds=data.kinds, features=_top_features(card))
    metrics = {key: round(value, 6) for key, value in measured.items()}
    metrics.update(n_train=int(len(train)), n_holdout=int(len(holdout)),
                   bad_rate_train=round(float(data.y[train].mean()), 6))
    parameters = {**card.info["params"], "holdout_share": HOLDOUT_SHARE, "bad_value": bad_value,
                  "exclude": list(exclude), "dropped": card.info.get("dropped", {}),
                  "scaling": card.to_dict()["scaling"], "grades": card.grades}
    return Fitted(model=card, metrics=metrics, report=report, profile=profile,
                  parameters=parameters, training_data_sha256=data.table.fingerprint())


def model_version_train(*, csv_path=None, target: str, actor=None,
                        kind: str = ModelKind.SCORECARD, data: TrainingData | None = None,
                        seed: int = 0, version: str | None = None, bad_value: str | None = None,
                        exclude: tuple[str, ...] = (), scaling: Scaling | None = None,
                        grades: list[list] | None = None,
                        progress=None) -> tuple[ModelVersion, dict]:
    """Train a model on a CSV of historical loans, or on `data` (e.g. the database's feature
    snapshots, features/training.py), with `model_fit`, and register it as a draft version,
    auditing `model.trained` in the same transaction."""
    if kind not in MODEL_CLASSES:
        raise NotImplementedError(f"model kind {kind!r} is not available")
    if version and ModelVersion.objects.filter(version=version).exists():  # before the work
        raise DataError(f"model version {version!r} already exists; choose another label")
    if data is None:
        data = training_set_read(csv_path=csv_path, target=target, bad_value=bad_value,
                                 exclude=exclude)
    fitted = model_fit(data, target=target, kind=kind, seed=seed, bad_value=bad_value,
                       exclude=exclude, scaling=scaling, grades=grades, progress=progress)
    card, metrics = fitted.model, fitted.metrics
    artefact = card.to_json()
    sha = card.sha256
    version = version or f"{kind}-{timezone.now():%Y%m%d-%H%M%S}-{sha[:8]}"
    summary = {**metrics, "version": version,
               "benchmark_onehot_lr_auc": fitted.report["benchmark_onehot_lr"]["auc"]}
    with transaction.atomic():
        if ModelVersion.objects.filter(version=version).exists():  # again: a concurrent run
            raise DataError(f"model version {version!r} already exists; choose another label")
        model_version = ModelVersion.objects.create(
            version=version, kind=kind, artefact=artefact, artefact_sha256=sha,
            training_data_sha256=fitted.training_data_sha256, target=target,
            features=list(card.features), parameters=fitted.parameters,
            metrics={**metrics, "report": fitted.report}, training_profile=fitted.profile,
            trained_by=actor if getattr(actor, "is_authenticated", False) else None)
        # Audit payloads take no floats (their text form is not canonical): metrics as strings.
        audit_record(action="model.trained", actor=actor, subject=model_version, payload={
            "version": version, "kind": kind, "artefact_sha256": sha,
            "training_data_sha256": model_version.training_data_sha256,
            "features": list(card.features),
            "metrics": {k: str(v) for k, v in metrics.items()},
        })
    return model_version, summary


# Segments the report splits the holdout by (§7.3 "per-segment AUC"), when the data has them.
SEGMENT_COLUMNS = ("size_class", "industry")


def segment_auc(y, p_bad, segment, min_rows: int = 30) -> list[dict]:
    """AUC per segment value on the holdout; too small or one-class segments say so."""
    out = []
    labels = ["missing" if v is None else str(v) for v in segment]
    for value in sorted(set(labels)):
        inside = np.array([label == value for label in labels])
        n, bads = int(inside.sum()), int(np.asarray(y)[inside].sum())
        auc = None
        if n >= min_rows and 0 < bads < n:
            auc = round(discrimination(np.asarray(y)[inside], p_bad[inside])["auc"], 6)
        out.append({"segment": value, "n": n, "bad_rate": round(bads / n, 6) if n else None,
                    "auc": auc})
    return out


def _top_features(card, limit: int = 8) -> list[str]:
    """The characteristics watched for drift: by information value for a scorecard (the ones
    that move the score most), otherwise the first `limit` features."""
    iv = card.info.get("iv") or {}
    ranked = sorted(card.features, key=lambda f: -iv.get(f, 0.0)) if iv else list(card.features)
    return ranked[:limit]


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
