"""Reads of scores, models and override figures, scoped to what the viewer may see."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from apps.applications.models import Application
from apps.applications.selectors import application_list
from apps.applications.states import ApplicationState
from apps.scoring.models import (
    DriftReport,
    ModelVersion,
    RescoringJob,
    ScoreFailure,
    ScoreOverride,
    ScoreResult,
    ShadowScore,
    TrainingJob,
)
from apps.scoring.permissions import may_view_models, may_view_score_failures
from apps.scoring.states import ModelVersionState, ScoreFailureState


def decision_scores() -> QuerySet[ScoreResult]:
    """Scores made by a model while it was the champion: the only scores that decisions,
    routing, the dossier, limits, prices and reports may read.

    Scoring writes only the champion's scores here (challengers write `ShadowScore`); the
    window check also keeps out any row a model wrote outside its time as champion — a draft
    that never was one (no `promoted_at`), or scores written before a promotion or after a
    retirement (issue #20: a draft's re-score became an application's "latest" score).
    """
    return ScoreResult.objects.filter(
        model_version__promoted_at__isnull=False,
        created_at__gte=F("model_version__promoted_at"),
    ).filter(Q(model_version__retired_at__isnull=True)
             | Q(created_at__lt=F("model_version__retired_at")))


def latest_score(*, application_id: int) -> ScoreResult | None:
    """The newest decision score of an application (see `decision_scores`), or None.

    Callers have already checked the viewer may see the application (approvals reads it for a
    file it is deciding). Fields: grade, probability, score, reasons, recommendation,
    model_version (with .version), suggested_limit, price_band, knockouts, policy.
    """
    return (decision_scores().filter(application_id=application_id)
            .select_related("model_version", "policy", "snapshot")
            .order_by("-created_at", "-id").first())


def score_list(*, viewer, application_id: int) -> QuerySet[ScoreResult]:
    """Every decision score of one application the viewer may see (404 otherwise)."""
    if not application_list(viewer=viewer).filter(pk=application_id).exists():
        raise Http404
    return (decision_scores().filter(application_id=application_id)
            .select_related("model_version", "policy").order_by("-created_at", "-id"))


def shadow_pairs(*, version: ModelVersion, champion: ModelVersion, limit: int = 50_000) -> list:
    """(application id, challenger PD, challenger grade, champion PD, champion grade) for the
    newest shadow scores of `version` whose exact input the champion also scored."""
    same_input = decision_scores().filter(model_version=champion,
                                          application_id=OuterRef("application_id"),
                                          input_hash=OuterRef("input_hash"))
    return list(ShadowScore.objects.filter(model_version=version)
                .annotate(champion_probability=Subquery(same_input.values("probability")[:1]),
                          champion_grade=Subquery(same_input.values("grade")[:1]))
                .exclude(champion_probability=None).order_by("-created_at", "-id")
                .values_list("application_id", "probability", "grade",
                             "champion_probability", "champion_grade")[:limit])


def shadow_agreement(*, viewer, version: ModelVersion) -> dict | None:
    """The challenger's agreement with the champion on the same inputs (the model page):
    rank correlation, grade migration, and realised default rates once outcomes exist.
    None for the champion itself or when there is no champion."""
    from apps.scoring.agreement import agreement
    from apps.scoring.services.performance import outcome_labels
    from apps.scoring.services.registry import champion_get, decision_policy_in_force

    _require_model_viewer(viewer)
    champion = champion_get()
    if champion is None or champion.pk == version.pk:
        return None
    pairs = shadow_pairs(version=version, champion=champion)
    policy = decision_policy_in_force()
    grades = [g for g, _ in policy.document["grades"]] if policy else []
    outcomes = outcome_labels().outcomes if pairs else {}
    return {"champion": champion, "shadow_count": ShadowScore.objects.filter(
        model_version=version).count(), **agreement(pairs, grades=grades, outcomes=outcomes)}


def _require_model_viewer(viewer) -> None:
    if not may_view_models(viewer):
        raise Http404


def model_version_list(*, viewer) -> QuerySet[ModelVersion]:
    _require_model_viewer(viewer)
    return ModelVersion.objects.select_related("trained_by", "promotion_requested_by",
                                               "promoted_by").defer("artefact")


def model_version_get(*, viewer, version_id: int) -> ModelVersion:
    _require_model_viewer(viewer)
    try:
        return ModelVersion.objects.select_related("trained_by", "promotion_requested_by",
                                                   "promoted_by").get(pk=version_id)
    except ModelVersion.DoesNotExist:
        raise Http404 from None


def drift_latest(*, model_version_id: int) -> DriftReport | None:
    return DriftReport.objects.filter(model_version_id=model_version_id).first()


def drift_alert_active() -> DriftReport | None:
    """The champion's latest drift report when it raised an alert (the banner's content)."""
    report = (DriftReport.objects.filter(model_version__state=ModelVersionState.CHAMPION)
              .select_related("model_version").first())
    return report if report is not None and report.alert else None


def rescoring_job_get(*, viewer, job_id: int) -> RescoringJob:
    _require_model_viewer(viewer)
    try:
        return RescoringJob.objects.select_related("model_version").get(pk=job_id)
    except RescoringJob.DoesNotExist:
        raise Http404 from None


def training_job_get(*, viewer, job_id: int) -> TrainingJob:
    """The job pages show to model viewers; the API shows the same."""
    _require_model_viewer(viewer)
    try:
        return TrainingJob.objects.select_related("model_version").get(pk=job_id)
    except TrainingJob.DoesNotExist:
        raise Http404 from None


_DECIDED = (ApplicationState.APPROVED, ApplicationState.REJECTED, ApplicationState.CONTRACTED,
            ApplicationState.DISBURSED)


def override_rates(*, viewer) -> dict[str, list[dict]]:
    """Override rate by approver (who decided) and by officer (whose file it was), over the
    scored, decided applications the viewer may see: overrides / decisions (§7.2 step 6)."""
    _require_model_viewer(viewer)
    visible = application_list(viewer=viewer).filter(state__in=_DECIDED).filter(
        pk__in=ScoreResult.objects.values("application_id"))
    overrides = ScoreOverride.objects.filter(application__in=visible.values("pk"))

    def rates(decisions, counts: dict, key: str, name: str) -> list[dict]:
        out = []
        for row in decisions:
            n = counts.get(row[key], 0)
            out.append({"user_id": row[key], "name": row[name] or "—", "decisions": row["n"],
                        "overrides": n, "rate": n / row["n"] if row["n"] else 0.0})
        return sorted(out, key=lambda r: (-r["rate"], r["name"]))

    decided = Application.objects.filter(pk__in=visible.values("pk"))
    by_approver = rates(
        decided.exclude(decided_by=None).values("decided_by", "decided_by__username")
        .annotate(n=Count("pk")),
        {r["decided_by"]: r["n"] for r in overrides.values("decided_by").annotate(n=Count("pk"))},
        "decided_by", "decided_by__username")
    by_officer = rates(
        decided.values("account_manager", "account_manager__username").annotate(n=Count("pk")),
        {r["officer"]: r["n"] for r in overrides.values("officer").annotate(n=Count("pk"))},
        "account_manager", "account_manager__username")
    return {"approvers": by_approver, "officers": by_officer}


def score_failure_list(*, viewer, states=(ScoreFailureState.FAILED,)) -> QuerySet[ScoreFailure]:
    """Score failures of the applications the viewer may see, newest failure first: 403 for
    roles that do not act on them. One query whatever the number (the application, its
    enterprise and branch, and who re-ran it are joined)."""
    if not may_view_score_failures(viewer):
        raise PermissionDenied(_("You may not see failed scores."))
    visible = application_list(viewer=viewer).values("pk")
    failures = ScoreFailure.objects.filter(application__in=visible)
    if states:
        failures = failures.filter(state__in=states)
    return (failures.select_related("application__enterprise", "application__branch",
                                    "rerun_by")
            .order_by("-last_failed_at", "-id"))


def score_failure_get(*, viewer, failure_id: int) -> ScoreFailure:
    """One score failure the viewer may see (404 otherwise, existence not revealed)."""
    failure = score_failure_list(viewer=viewer, states=()).filter(pk=failure_id).first()
    if failure is None:
        raise Http404
    return failure
