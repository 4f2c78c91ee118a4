from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ModelVersionState(TextChoices):
    DRAFT = "draft", _("Draft")
    VALIDATED = "validated", _("Validated")
    PROMOTION_REQUESTED = "promotion_requested", _("Promotion requested")
    CHAMPION = "champion", _("Champion")
    RETIRED = "retired", _("Retired")


class ModelKind(TextChoices):
    SCORECARD = "scorecard", _("Scorecard")
    GBM = "gbm", _("Gradient boosting")


class Recommendation(TextChoices):
    """What the score advises; people decide (§2.6, §7.2 step 5)."""

    APPROVE = "approve", _("Recommend approval")
    REFER = "refer", _("Refer to human review")
    DECLINE = "decline", _("Recommend decline")


class Decision(TextChoices):
    """A person's decision, compared with the recommendation to count overrides (§7.2 step 6)."""

    APPROVE = "approve", _("Approved")
    DECLINE = "decline", _("Declined")


class ScoreTrigger(TextChoices):
    INVESTIGATION_ACCEPTED = "investigation_accepted", _("Investigation accepted")
    ON_DEMAND = "on_demand", _("Requested by a person")
    SWEEPER = "sweeper", _("Re-queued by the sweeper")
    RESCORING = "rescoring", _("Portfolio re-scoring")


class RescoringJobState(TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class TrainingJobState(TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class TrainingSource(TextChoices):
    CSV = "csv", _("Uploaded CSV")
    DATABASE = "database", _("Disbursed loans in Credence")


class ScoreFailureState(TextChoices):
    """A score the worker could not compute: retried by the sweeper up to the policy's
    `score_max_attempts`, then failed (listed for people to act on), resolved by a later score."""

    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")
    RESOLVED = "resolved", _("Resolved")


class ScoreFailureReason(TextChoices):
    """Why a score failed, as a code; the page turns it into a sentence."""

    MODEL_INCOMPATIBLE = "model_incompatible", _("The champion model cannot read the inputs")
    MODEL_UNAVAILABLE = "model_unavailable", _("The champion model could not be loaded")
    POLICY_INVALID = "policy_invalid", _("The decision policy could not be applied")
    DATABASE = "database", _("The database was unavailable")
    UNEXPECTED = "unexpected", _("An unexpected error in the scoring worker")
