"""Scoring in the admin, read-only: decision policies are policy data edited in the policy
workbench (four-eyes, audited); the other records are written by services only (with their
audit events), and an edited artefact would no longer match its hash."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.scoring.models import (
    DecisionPolicy,
    DriftReport,
    ModelVersion,
    RescoringJob,
    ScoreFailure,
    ScoreOverride,
    ScoreResult,
    TrainingJob,
)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "kind", "state", "target", "trained_by", "promoted_by",
                    "created_at")
    list_filter = ("kind", "state")
    search_fields = ("version", "artefact_sha256", "training_data_sha256")


@admin.register(ScoreResult)
class ScoreResultAdmin(ReadOnlyAdmin):
    list_display = ("application", "model_version", "grade", "score", "recommendation",
                    "trigger", "created_at")
    list_filter = ("grade", "recommendation", "trigger")
    raw_id_fields = ("application", "snapshot", "job")


@admin.register(DecisionPolicy)
class DecisionPolicyAdmin(ReadOnlyAdmin):
    list_display = ("version", "state", "effective_from", "effective_to", "evidence",
                    "approved_by", "created_by", "published_by", "published_at", "created_at")


@admin.register(ScoreOverride)
class ScoreOverrideAdmin(ReadOnlyAdmin):
    list_display = ("application", "recommendation", "decision", "decided_by", "created_at")


@admin.register(RescoringJob)
class RescoringJobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "model_version", "state", "done", "total", "created", "created_at")


@admin.register(DriftReport)
class DriftReportAdmin(ReadOnlyAdmin):
    list_display = ("model_version", "score_psi", "alert", "n_scores", "created_at")


@admin.register(TrainingJob)
class TrainingJobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "target", "state", "progress", "model_version", "created_at")


@admin.register(ScoreFailure)
class ScoreFailureAdmin(ReadOnlyAdmin):
    """Read-only: re-runs go through the failed-scores page or API (service, audit, outbox)."""

    list_display = ("application", "state", "attempts", "max_attempts", "reason_code",
                    "last_failed_at", "next_attempt_at")
    list_filter = ("state", "reason_code")
    raw_id_fields = ("application", "resolved_by_score", "rerun_by")
