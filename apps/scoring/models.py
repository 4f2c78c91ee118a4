"""The model registry, score results, the decision policy, overrides, re-scoring jobs, drift.

A model version records what is needed to reproduce and audit a score (domain reference §7.1
"feature record rule", §7.3): the artefact itself (canonical JSON, never a pickle) and its
sha256, the fingerprint of the training data, the feature list, the training parameters,
holdout metrics, the training distribution (for drift) and who trained it. Its lifecycle:
draft → validated → promotion requested → champion → retired; the promotion is approved by
someone other than who trained the model or asked for its promotion (§6.4, §7.3: "deploying a
new version needs an independent validator's sign-off"). At most one champion at a time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import PublishedVersion, WorkflowModel
from apps.core.policy import Evidence
from apps.scoring.states import (
    Decision,
    ModelKind,
    Recommendation,
    RescoringJobState,
    ScoreFailureReason,
    ScoreFailureState,
    ScoreTrigger,
    TrainingJobState,
    TrainingSource,
)
from apps.scoring.states import ModelVersionState as S


def independent_of_model(version: "ModelVersion", user) -> bool:
    """Four-eyes on promotion: a model risk role, and neither its trainer nor its requester."""
    from apps.scoring.permissions import may_manage_models

    return (may_manage_models(user) and user.pk != version.trained_by_id
            and user.pk != version.promotion_requested_by_id)


def model_manager(version: "ModelVersion", user) -> bool:
    from apps.scoring.permissions import may_manage_models

    return may_manage_models(user)


def nobody(version, user) -> bool:
    """Moves only the system makes (installing the shipped default model)."""
    return False


class ModelVersion(WorkflowModel):
    """One trained model: artefact, provenance and metrics, loaded only after its hash checks."""

    version = models.CharField(_("version"), max_length=100, unique=True,
                               help_text=_("Label quoted by scores and decisions."))
    kind = models.CharField(_("kind"), max_length=20, choices=ModelKind.choices)
    state = FSMField(_("state"), default=S.DRAFT, choices=S.choices, protected=True)
    # Text, not a JSON column: the stored bytes are exactly the hashed bytes on every database
    # (jsonb reorders keys and may reformat numbers).
    artefact = models.TextField(_("artefact"), help_text=_("Canonical JSON of the model."))
    artefact_sha256 = models.CharField(_("artefact sha256"), max_length=64)
    training_data_sha256 = models.CharField(
        _("training data fingerprint"), max_length=64,
        help_text=_("sha256 of the canonical training rows (see scorecard.data.Table)."))
    target = models.CharField(_("target column"), max_length=200)
    features = models.JSONField(_("features"), default=list)
    parameters = models.JSONField(_("parameters"), default=dict)
    metrics = models.JSONField(_("holdout metrics"), default=dict)
    training_profile = models.JSONField(
        _("training distribution"), default=dict, blank=True,
        help_text=_("Score and feature distributions on the training rows: the drift baseline."))
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("trained by"))
    promotion_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("promotion requested by"))
    promotion_reason = models.TextField(_("reason for promotion"), blank=True)
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("promotion approved by"))
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ModelKind.values),
                                   name="scoring_modelversion_kind_valid"),
            # One champion scores new applications; two would make "the" score ambiguous.
            models.UniqueConstraint(fields=["state"], condition=Q(state=S.CHAMPION),
                                    name="scoring_one_champion"),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.kind}, {self.state})"

    @transition(field=state, source=S.DRAFT, target=S.VALIDATED, permission=model_manager)
    def validate(self) -> None:
        """A validator has reviewed the holdout report; nothing else changes."""

    @transition(field=state, source=S.VALIDATED, target=S.PROMOTION_REQUESTED,
                permission=model_manager)
    def request_promotion(self, *, by, reason: str) -> None:
        """Ask for this version to replace the champion; someone else must approve."""
        self.promotion_requested_by, self.promotion_reason = by, reason

    @transition(field=state, source=S.PROMOTION_REQUESTED, target=S.CHAMPION,
                permission=independent_of_model)
    def approve_promotion(self, *, by, at) -> None:
        """The independent sign-off: this version scores every new application from now."""
        self.promoted_by, self.promoted_at = by, at

    @transition(field=state, source=S.PROMOTION_REQUESTED, target=S.VALIDATED,
                permission=independent_of_model)
    def reject_promotion(self) -> None:
        """The validator refuses; the version stays validated and may be asked for again."""
        self.promotion_requested_by, self.promotion_reason = None, ""

    @transition(field=state, source=S.DRAFT, target=S.CHAMPION, permission=nobody)
    def install_default(self, *, at) -> None:
        """The shipped default model becomes champion on a fresh install with no champion."""
        self.promoted_at = at

    @transition(field=state, source=[S.DRAFT, S.VALIDATED, S.CHAMPION], target=S.RETIRED,
                permission=model_manager)
    def retire(self, *, at=None) -> None:
        """Withdrawn from use; kept forever, since past scores quote this version."""
        self.retired_at = at


class DecisionPolicy(PublishedVersion):
    """A version of the decision policy: grade table, knock-out rules, limits and price bands,
    drift and sweeper thresholds (domain reference §0.2: policy data, never code constants).

    One series of the shared policy-version machine (`apps.core.models.PublishedVersion`,
    driven by `apps.policy.versioning`): draft → published (four-eyes: never by its drafter)
    → retired when the next version starts. The policy in force on a day is the published (or
    since retired) version whose dates cover it. Every score records the version it used, so a
    past recommendation can be re-explained.
    """

    publish_permission = "scoring.publish_decisionpolicy"
    audit_prefix = "decision_policy"
    series_fields = ()

    version = models.PositiveIntegerField(_("version"), unique=True)
    document = models.JSONField(_("policy"), help_text=_("Validated by scoring.policy."))
    effective_from = models.DateField(_("effective from"))
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    approved_by = models.CharField(_("approved by"), max_length=150, blank=True)

    class Meta:
        ordering = ["-effective_from", "-version"]
        permissions = [("publish_decisionpolicy", _("Can publish decision policies"))]
        verbose_name = _("decision policy")
        verbose_name_plural = _("decision policies")

    def __str__(self) -> str:
        return f"v{self.version} ({self.effective_from})"


class FeatureSnapshot(models.Model):
    """The exact inputs of a score (§7.1 feature record rule), stored once per distinct input:
    a re-score with another model on the same inputs points at the same snapshot."""

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    input_hash = models.CharField(_("input hash"), max_length=64)
    spec_version = models.CharField(_("feature spec"), max_length=40)
    values = models.JSONField(_("feature values"))
    red_flag_codes = models.JSONField(_("red flags"), default=list)
    sources = models.JSONField(_("sources"), default=dict,
                               help_text=_("Investigation, submission round, parsed figures."))
    created_at = models.DateTimeField(_("assembled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("feature snapshot")
        verbose_name_plural = _("feature snapshots")
        constraints = [
            models.UniqueConstraint(fields=["application", "input_hash"],
                                    name="scoring_snapshot_unique_input"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.input_hash[:12]}"


# Rows per re-scoring chunk, and so per write transaction, unless the job says otherwise. A
# score computed meanwhile for a file of the chunk (same model, same input: the same result key)
# waits for that transaction to end, and the audit chain's lock is taken just before each
# commit: 1,000 rows keep both waits to about a tenth of a second (issue #23 (2); at 5,000 an
# approver's score waited about a second).
RESCORING_CHUNK = 1000


class RescoringJob(WorkflowModel):
    """One portfolio re-scoring run: a single Celery task walks the portfolio in chunks and
    reports progress here (done / total), which the job page polls."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT,
                                      related_name="rescoring_jobs",
                                      verbose_name=_("model version"))
    state = FSMField(_("state"), default=RescoringJobState.QUEUED,
                     choices=RescoringJobState.choices, protected=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    chunk_size = models.PositiveIntegerField(_("chunk size"), default=RESCORING_CHUNK)
    total = models.PositiveIntegerField(_("applications"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    created = models.PositiveIntegerField(_("new results"), default=0)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("re-scoring job")
        verbose_name_plural = _("re-scoring jobs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.state} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)

    @transition(field=state, source=RescoringJobState.QUEUED, target=RescoringJobState.RUNNING)
    def start(self, *, at, total: int) -> None:
        """The worker picked the job up and counted the portfolio."""
        self.started_at, self.total = at, total

    @transition(field=state, source=RescoringJobState.RUNNING,
                target=RescoringJobState.COMPLETED)
    def complete(self, *, at) -> None:
        """Every chunk is written."""
        self.finished_at = at

    @transition(field=state, source=[RescoringJobState.QUEUED, RescoringJobState.RUNNING],
                target=RescoringJobState.FAILED)
    def fail(self, *, at, error: str) -> None:
        """Stopped by an error; chunks already written stay (results are idempotent)."""
        self.finished_at, self.error = at, error[:2000]


class ScoreResult(models.Model):
    """One score of one application by one model version on one input (immutable).

    Unique on (application, model version, input hash): the same task delivered twice, or a
    sweeper re-send, finds the result already there and writes nothing (CONVENTIONS §4).
    """

    # Application, model version, snapshot, policy and job: on PostgreSQL checked once per
    # statement by triggers, not per row by constraints (migrations
    # 0010_score_result_set_based_keys: a re-score chunk's commit spent more on 25,000 row
    # checks than on its insert; 0012_score_result_keys_by_snapshot: the application as the
    # snapshot's own, whose foreign key keeps it).
    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"),
                                    db_index=False,  # led by scoring_result_idempotent
                                    db_constraint=False)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT,
                                      related_name="scores", verbose_name=_("model version"),
                                      db_index=False,  # rarely searched by: see Meta
                                      db_constraint=False)
    # Indexes cost every bulk re-score: only those a query uses (snapshots and policies are
    # read from a result, never searched by).
    snapshot = models.ForeignKey(FeatureSnapshot, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("input snapshot"), db_index=False,
                                 db_constraint=False)
    input_hash = models.CharField(_("input hash"), max_length=64)
    probability = models.FloatField(_("probability of default"))
    score = models.FloatField(_("score"))
    grade = models.CharField(_("grade"), max_length=10)
    reasons = models.JSONField(_("reason codes"), default=list)
    policy = models.ForeignKey(DecisionPolicy, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("decision policy"), db_index=False,
                               db_constraint=False)
    recommendation = models.CharField(_("recommendation"), max_length=10,
                                      choices=Recommendation.choices)
    knockouts = models.JSONField(_("knock-out rules hit"), default=list)
    suggested_limit = models.DecimalField(_("suggested limit"), max_digits=16, decimal_places=2,
                                          null=True, blank=True)
    price_band = models.CharField(_("price band"), max_length=20, blank=True)
    trigger = models.CharField(_("trigger"), max_length=30, choices=ScoreTrigger.choices)
    job = models.ForeignKey(RescoringJob, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", verbose_name=_("re-scoring job"), db_index=False,
                            db_constraint=False)
    created_at = models.DateTimeField(_("scored at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("score result")
        verbose_name_plural = _("score results")
        constraints = [
            models.UniqueConstraint(fields=["application", "model_version", "input_hash"],
                                    name="scoring_result_idempotent"),
        ]
        # No other index (migration 0011): every one is written by each row of a portfolio
        # re-score. An application's scores (the latest, its list, the sweeper's "scored
        # since") are found by the unique key, which leads with the application (a file has a
        # handful of results: one per model version and input); drift's recent scores of a
        # version by the time index the portfolio facts' tail keeps on created_at
        # (insight 0003: the window's rows are nearly all the champion's).

    def __str__(self) -> str:
        return f"{self.application_id}: {self.grade} ({self.score:.0f})"


class ShadowScore(models.Model):
    """A score by a model that is not the champion (a draft or validated challenger): kept
    apart from `ScoreResult` so that nothing which decides — the score block, the approval
    route, the dossier, limits, prices, reports — can ever read it. Used only to measure the
    challenger's agreement with the champion (rank correlation, grade migration, realised
    default rates) on the same inputs.

    Unique on (application, model version, input hash) like decision scores: re-running a
    shadow job or re-delivering a task writes nothing twice.
    """

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT,
                                      related_name="shadow_scores",
                                      verbose_name=_("model version"), db_index=False)
    snapshot = models.ForeignKey(FeatureSnapshot, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("input snapshot"), db_index=False)
    input_hash = models.CharField(_("input hash"), max_length=64)
    probability = models.FloatField(_("probability of default"))
    score = models.FloatField(_("score"))
    grade = models.CharField(_("grade"), max_length=10)
    policy = models.ForeignKey(DecisionPolicy, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("decision policy"), db_index=False)
    trigger = models.CharField(_("trigger"), max_length=30, choices=ScoreTrigger.choices)
    job = models.ForeignKey(RescoringJob, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", verbose_name=_("re-scoring job"), db_index=False)
    created_at = models.DateTimeField(_("scored at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("shadow score")
        verbose_name_plural = _("shadow scores")
        constraints = [
            models.UniqueConstraint(fields=["model_version", "application", "input_hash"],
                                    name="scoring_shadow_idempotent"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: shadow {self.grade} ({self.score:.0f})"


class ScoreOverride(models.Model):
    """A decision against the score's recommendation, with its reason (§7.2 step 6): counted
    by officer (the file's account manager) and by the deciding approver."""

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    score_result = models.ForeignKey(ScoreResult, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("score"))
    recommendation = models.CharField(_("recommendation"), max_length=10,
                                      choices=Recommendation.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("account manager"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("score override")
        verbose_name_plural = _("score overrides")

    def __str__(self) -> str:
        return f"{self.application_id}: {self.recommendation} → {self.decision}"


class DriftReport(models.Model):
    """PSI of the score and the top features on recent scores against the training data."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT,
                                      related_name="drift_reports",
                                      verbose_name=_("model version"))
    window_days = models.PositiveIntegerField(_("window (days)"))
    n_scores = models.PositiveIntegerField(_("scores compared"))
    score_psi = models.FloatField(_("score PSI"), null=True)
    feature_psi = models.JSONField(_("feature PSI"), default=dict)
    threshold = models.FloatField(_("alert threshold"))
    alert = models.BooleanField(_("alert"), default=False)
    policy_version = models.PositiveIntegerField(_("policy version"), null=True)
    created_at = models.DateTimeField(_("computed at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("drift report")
        verbose_name_plural = _("drift reports")

    def __str__(self) -> str:
        return f"{self.model_version_id} PSI {self.score_psi}"


class TrainingJob(WorkflowModel):
    """Training a model from a CSV uploaded on the model page, or from the disbursed loans in
    the database, run by a worker with progress (issue 6: "training from the UI runs as a
    Celery job with a progress bar")."""

    source = models.CharField(_("source"), max_length=20, choices=TrainingSource.choices,
                              default=TrainingSource.CSV)
    csv_file = models.FileField(_("training data"), upload_to="scoring/training/", blank=True)
    csv_sha256 = models.CharField(_("file sha256"), max_length=64, blank=True)
    labels = models.JSONField(_("labels"), default=dict, blank=True,
                              help_text=_("Goods, bads and exclusions, when trained from the "
                                          "database."))
    target = models.CharField(_("target column"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ModelKind.choices)
    seed = models.PositiveIntegerField(_("seed"), default=0)
    state = FSMField(_("state"), default=TrainingJobState.QUEUED,
                     choices=TrainingJobState.choices, protected=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("model version"))
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.state}"

    @transition(field=state, source=TrainingJobState.QUEUED, target=TrainingJobState.RUNNING)
    def start(self) -> None:
        """A worker picked the job up."""
        self.progress, self.stage = 1, "reading"

    @transition(field=state, source=TrainingJobState.RUNNING,
                target=TrainingJobState.COMPLETED)
    def complete(self, *, at, model_version) -> None:
        """The model is registered as a draft version."""
        self.finished_at, self.model_version, self.progress, self.stage = (
            at, model_version, 100, "done")

    @transition(field=state, source=[TrainingJobState.QUEUED, TrainingJobState.RUNNING],
                target=TrainingJobState.FAILED)
    def fail(self, *, at, error: str) -> None:
        """The data could not be used (the message says what to fix)."""
        self.finished_at, self.error = at, error[:2000]


class LoanPerformance(models.Model):
    """Days past due of a disbursed loan on a date, imported from the bank's loan system.

    The scoring app owns these records only until a loan-servicing (post-loan) app exists:
    today their one use is labelling applications good or bad for training (the default
    definition is policy data, scoring/performance.py). Move them when that app arrives.
    """

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    as_of = models.DateField(_("as of"))
    days_past_due = models.PositiveIntegerField(_("days past due"))
    source = models.CharField(_("source"), max_length=200,
                              help_text=_("The file or system the figure came from."))
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["application_id", "as_of"]
        verbose_name = _("loan performance record")
        verbose_name_plural = _("loan performance records")
        constraints = [models.UniqueConstraint(fields=["application", "as_of"],
                                               name="scoring_loanperf_unique_app_date")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.as_of}: {self.days_past_due} dpd"


def score_failure_rerunner(failure: "ScoreFailure", user) -> bool:
    """Credit policy and operations re-run failed scores (`permissions.SCORE_FAILURE_ROLES`)."""
    from apps.scoring.permissions import may_rerun_score

    return may_rerun_score(user)


def attempts_left(failure: "ScoreFailure") -> bool:
    """This failed attempt is not the last the policy allows."""
    return failure.attempts + 1 < failure.max_attempts


def bound_reached(failure: "ScoreFailure") -> bool:
    """This failed attempt is the last the policy allows (`score_max_attempts`)."""
    return failure.attempts + 1 >= failure.max_attempts


class ScoreFailure(WorkflowModel):
    """An application the scoring worker could not score, kept until a score succeeds (issue #20).

    Before this, a score that failed for good was re-sent by the sweeper every few minutes
    forever and nobody saw it. Now the first failed attempt opens a record in `retrying`; the
    sweeper re-sends it with back-off until the decision policy's `score_max_attempts` have
    failed, then it is `failed` and listed on the failed-scores page for credit policy and
    operations to act on (fix the model or policy, then re-run). Any later successful score of
    the application resolves it. At most one open (retrying or failed) record per application.
    """

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("application"))
    state = FSMField(_("state"), default=ScoreFailureState.RETRYING,
                     choices=ScoreFailureState.choices, protected=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    # The bound in force when the record opened (or was re-run): a policy change later does not
    # move a record already counting.
    max_attempts = models.PositiveIntegerField(_("attempts allowed"))
    reason_code = models.CharField(_("reason"), max_length=30,
                                   choices=ScoreFailureReason.choices)
    # Shown only for the reasons whose message Credence wrote for people (an incompatible
    # model names the characteristics); other errors keep their type for the worker log.
    detail = models.TextField(_("detail"), blank=True)
    error_type = models.CharField(_("error type"), max_length=200, blank=True)
    trigger = models.CharField(_("trigger"), max_length=30, choices=ScoreTrigger.choices)
    last_failed_at = models.DateTimeField(_("last failed at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("gave up at"), null=True, blank=True)
    rerun_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("re-run by"))
    rerun_at = models.DateTimeField(_("re-run at"), null=True, blank=True)
    resolved_by_score = models.ForeignKey(ScoreResult, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("resolved by score"), db_index=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        verbose_name = _("score failure")
        verbose_name_plural = _("score failures")
        constraints = [
            # One open record per application: a second failure counts on the first.
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(state__in=[ScoreFailureState.RETRYING, ScoreFailureState.FAILED]),
                name="scoring_one_open_failure"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1),
                                   name="scoring_failure_bound_positive"),
        ]
        # the sweeper: retrying records whose next attempt is due
        indexes = [models.Index(fields=["state", "next_attempt_at"],
                                name="scoring_failure_due")]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.state} after {self.attempts}"

    def _note(self, *, at, reason_code: str, detail: str, error_type: str) -> None:
        self.attempts += 1
        self.last_failed_at, self.reason_code = at, reason_code
        self.detail, self.error_type = detail[:2000], error_type[:200]

    @transition(field=state, source=ScoreFailureState.RETRYING,
                target=ScoreFailureState.RETRYING, conditions=[attempts_left])
    def retry_later(self, *, at, retry_at, reason_code: str, detail: str = "",
                    error_type: str = "") -> None:
        """Another attempt failed with attempts left: the sweeper re-sends it at `retry_at`."""
        self._note(at=at, reason_code=reason_code, detail=detail, error_type=error_type)
        self.next_attempt_at = retry_at

    @transition(field=state, source=ScoreFailureState.RETRYING,
                target=ScoreFailureState.FAILED, conditions=[bound_reached])
    def give_up(self, *, at, reason_code: str, detail: str = "", error_type: str = "") -> None:
        """The last attempt the policy allows failed: nobody re-sends it until a person does."""
        self._note(at=at, reason_code=reason_code, detail=detail, error_type=error_type)
        self.failed_at, self.next_attempt_at = at, None

    @transition(field=state, source=ScoreFailureState.FAILED,
                target=ScoreFailureState.RETRYING, permission=score_failure_rerunner)
    def rerun(self, *, by, at, max_attempts: int, sent_until) -> None:
        """A person asks for a fresh attempt (after fixing the cause): the count starts again
        under the bound in force now; the sweeper re-sends it if this send is lost."""
        self.rerun_by, self.rerun_at = by, at
        self.attempts, self.max_attempts = 0, max_attempts
        self.failed_at, self.next_attempt_at = None, sent_until

    @transition(field=state, source=[ScoreFailureState.RETRYING, ScoreFailureState.FAILED],
                target=ScoreFailureState.RESOLVED)
    def resolve(self, *, at, score: "ScoreResult") -> None:
        """A later score of the application succeeded."""
        self.resolved_at, self.resolved_by_score, self.next_attempt_at = at, score, None
