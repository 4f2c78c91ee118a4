"""Scoring services: training and the registry, single and bulk scoring, the decision policy,
overrides, model lifecycle and drift. Import from here."""

from apps.scoring.services.failures import (
    score_failure_record,
    score_failure_rerun,
    score_failure_resolve,
    score_failure_sweep,
)
from apps.scoring.services.monitoring import drift_check
from apps.scoring.services.overrides import score_override_record
from apps.scoring.services.promotion import (
    model_version_approve_promotion,
    model_version_reject_promotion,
    model_version_request_promotion,
    model_version_validate,
)
from apps.scoring.services.registry import (
    champion_ensure,
    champion_get,
    decision_policy_create,
    decision_policy_draft_next,
    decision_policy_ensure,
    decision_policy_in_force,
    decision_policy_publish,
    decision_policy_retire,
    decision_policy_save,
    default_model_install,
    model_of,
)
from apps.scoring.services.rescoring import rescoring_run, rescoring_start
from apps.scoring.services.scoring import (
    application_score,
    application_score_request,
    score_sweep,
)
from apps.scoring.services.training import (
    MODEL_CLASSES,
    ModelNotFound,
    csv_score,
    model_version_load,
    model_version_train,
    scoring_columns,
)
from apps.scoring.services.training_jobs import training_job_run, training_job_start

__all__ = [
    "MODEL_CLASSES", "ModelNotFound", "application_score", "application_score_request",
    "champion_ensure", "champion_get", "csv_score", "decision_policy_create",
    "decision_policy_draft_next", "decision_policy_save",
    "decision_policy_ensure", "decision_policy_in_force", "decision_policy_publish",
    "decision_policy_retire",
    "default_model_install",
    "drift_check", "model_of", "model_version_approve_promotion", "model_version_load",
    "model_version_reject_promotion", "model_version_request_promotion",
    "model_version_train", "model_version_validate", "rescoring_run", "rescoring_start",
    "score_failure_record", "score_failure_rerun", "score_failure_resolve",
    "score_failure_sweep", "score_override_record", "score_sweep", "scoring_columns",
    "training_job_run", "training_job_start",
]
