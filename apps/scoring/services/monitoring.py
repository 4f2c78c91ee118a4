"""Drift monitoring: PSI of recent scores and top features against the training distribution
stored with the model version (domain reference §7.3), with an alert above the policy's
threshold (0.25 by default, policy data): an audit event, a warning in the log, and the banner
on the model pages for risk and administrators."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.scoring.drift import psi_against
from apps.scoring.features.assemble import records_to_columns
from apps.scoring.models import DriftReport, ModelVersion, ScoreResult
from apps.scoring.services.registry import champion_get, decision_policy_ensure

logger = logging.getLogger(__name__)


def drift_check(*, model_version_id: int | None = None,
                now: dt.datetime | None = None) -> DriftReport | None:
    """Compute and store one drift report; None when there is no model or too few scores."""
    version = (ModelVersion.objects.get(pk=model_version_id) if model_version_id
               else champion_get())
    if version is None or not version.training_profile:
        return None
    policy = decision_policy_ensure()
    document = policy.document
    since = (now or timezone.now()) - dt.timedelta(days=document["psi_window_days"])
    rows = list(ScoreResult.objects.filter(model_version=version, created_at__gte=since)
                .values_list("score", "snapshot__values"))
    if len(rows) < document["psi_min_scores"]:
        return None
    profile = version.training_profile
    scores = np.array([score for score, _ in rows])
    kinds = {name: p["kind"] for name, p in profile["features"].items()}
    columns = records_to_columns([values for _, values in rows], kinds)
    feature_psi = {name: round(psi_against(p, columns[name]), 6)
                   for name, p in profile["features"].items()}
    score_psi = round(psi_against(profile["score"], scores), 6)
    threshold = float(document["psi_alert"])
    breached = {name: v for name, v in feature_psi.items() if v > threshold}
    alert = score_psi > threshold or bool(breached)
    with transaction.atomic():
        report = DriftReport.objects.create(
            model_version=version, window_days=document["psi_window_days"], n_scores=len(rows),
            score_psi=score_psi, feature_psi=feature_psi, threshold=threshold, alert=alert,
            policy_version=policy.version)
        if alert:
            audit_record(action="model.drift_alert", actor=None, subject=version, payload={
                "report": report.pk, "score_psi": f"{score_psi:.6f}",
                "threshold": f"{threshold:.4f}",
                "features": {k: f"{v:.6f}" for k, v in breached.items()},
                "n_scores": len(rows)})
    if alert:
        logger.warning("model %s drift: score PSI %.4f, features over %.2f: %s",
                       version.version, score_psi, threshold, ", ".join(breached) or "none")
    return report
