"""Scoring one application: assemble its features, score with the champion, advise with the
decision policy in force, store the result with its exact inputs (domain reference §7.1–7.2).

Idempotent per (application, model version, input hash): a task delivered twice, or re-sent
by the sweeper, finds its result and writes nothing; a changed input (a corrected answer, a
new parsed statement) is a new result. The score advises; people decide (§2.6).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.applications.models import Application
from apps.applications.selectors import application_get
from apps.applications.states import ApplicationState
from apps.audit.services import audit_record
from apps.core.compiled import run_together
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.investigations.policy import policy_values_changed_at
from apps.scoring.features.assemble import application_features_steps, records_to_columns
from apps.scoring.features.spec import FEATURE_NAMES
from apps.scoring.models import FeatureSnapshot, ScoreFailure, ScoreResult
from apps.scoring.permissions import may_request_score
from apps.scoring.policy import recommend
from apps.scoring.services.failures import (
    OPEN_STATES,
    score_failure_resolve,
    score_failure_sweep,
)
from apps.scoring.services.registry import (
    decision_policies_in_force,
    decision_policy_cached,
    decision_policy_ensure,
    model_of,
)
from apps.scoring.services.shadow import scoring_models_steps, shadow_scores_record
from apps.scoring.states import ScoreTrigger

logger = logging.getLogger(__name__)
REASONS_SHOWN = 3
# Files still being decided: a score is useful to them; closed files are not re-scored.
SCORABLE_STATES = (ApplicationState.INVESTIGATING, ApplicationState.UNDER_REVIEW,
                   ApplicationState.IN_APPROVAL, ApplicationState.RETURNED)


class ChampionIncompatible(DomainError):
    code = "champion_incompatible"
    status_code = 409


def _check_features(version) -> None:
    unknown = sorted(set(version.features) - set(FEATURE_NAMES))
    if unknown:
        raise ChampionIncompatible(
            _("The champion model uses characteristics the feature pipeline does not produce: "
              "%(names)s.") % {"names": ", ".join(unknown)})


def application_score(*, application_id: int, trigger: str = ScoreTrigger.INVESTIGATION_ACCEPTED,
                      actor=None) -> ScoreResult:
    """Score the application with the champion now; returns the stored (or existing) result.
    Challengers the policy names score the same input in shadow (`services.shadow`)."""
    # Reads only, outside the write transaction; the application row is read once (nothing
    # here locks it: the score is idempotent per input hash, see the module docstring), with
    # its investigation and template, whether a failure is open (a failure recorded after this
    # read is re-run by the sweeper, which finds this score and resolves it then), which
    # decision policy is in force (its published version is cached by id in the process, so
    # a publish decides the next score) and when the policy values last changed (those in
    # force are cached per change the same way).
    application = (Application.objects.select_related("enterprise", "investigation__template")
                   .annotate(score_failure_open=Exists(ScoreFailure.objects.filter(
                       application_id=OuterRef("pk"), state__in=OPEN_STATES)),
                       policy_in_force_id=Subquery(decision_policies_in_force()
                                                   .values("pk")[:1]),
                       policy_values_changed_at=policy_values_changed_at())
                   .get(pk=application_id))
    try:
        investigation = application.investigation
    except ObjectDoesNotExist:
        investigation = None
    # The sources' reads and the champion with the challengers scoring in shadow (one read):
    # independent, so sent together (one round trip on PostgreSQL, apps.core.compiled). They,
    # and the existing result, come before the write transaction: a replay (delivered twice,
    # nothing changed) opens none. Seeding a missing policy or model has its own transaction.
    policy = decision_policy_cached(application.policy_in_force_id)
    record, (version, challengers) = run_together(
        application_features_steps(
            application_id, application=application, investigation=investigation,
            policy_changed_at=(application.policy_values_changed_at,)),
        scoring_models_steps(policy))
    _check_features(version)
    existing = ScoreResult.objects.filter(application_id=application_id, model_version=version,
                                          input_hash=record.input_hash).first()
    if existing is not None:
        # delivered twice, or nothing changed since the last score; a re-run of a failure
        # whose cause went away finds the earlier score and is resolved by it
        if application.score_failure_open:
            with transaction.atomic():
                score_failure_resolve(application=application, score=existing)
        return existing
    model = model_of(version)
    columns = records_to_columns([record.values], model.feature_kinds)
    scored = model.predict(columns, grades=policy.document["grades"], top_k=REASONS_SHOWN)[0]
    advice = recommend(policy.document, score=scored["score"], values=record.values,
                       red_flag_codes=record.red_flag_codes,
                       amount_requested=application.amount_requested,
                       annual_revenue=application.enterprise.annual_revenue)
    # The writes: snapshot, result, the failure it resolves, shadow scores and the audit
    # event, in one transaction. A concurrent twin (same application, model and input) that
    # committed first makes the result's insert fail: the whole transaction is rolled back
    # and the twin's result returned (no savepoint around the insert: two round trips less).
    try:
        with transaction.atomic():
            # The snapshot in one statement whether or not an earlier score stored it (insert,
            # or on the same input keep the stored one: its values are those hashed).
            snapshot = FeatureSnapshot(
                application_id=application_id, input_hash=record.input_hash,
                spec_version=record.canonical()["spec"], values=record.values,
                red_flag_codes=record.red_flag_codes, sources=record.sources)
            FeatureSnapshot.objects.bulk_create(
                [snapshot], update_conflicts=True, unique_fields=["application", "input_hash"],
                update_fields=["spec_version"])
            result = ScoreResult.objects.create(
                application_id=application_id, model_version=version, snapshot=snapshot,
                input_hash=record.input_hash, probability=scored["probability"],
                score=scored["score"], grade=advice["grade"], reasons=scored["reasons"],
                policy=policy, recommendation=advice["recommendation"],
                knockouts=advice["knockouts"], suggested_limit=advice["suggested_limit"],
                price_band=advice["price_band"], trigger=trigger)
            if application.score_failure_open:
                score_failure_resolve(application=application, score=result)
            # Challengers score the same input in shadow: stored apart, never read by decisions.
            shadow_scores_record(application_id=application_id, record=record,
                                 snapshot=snapshot, policy=policy, trigger=trigger,
                                 versions=challengers)
            audit_record(action="score.computed", actor=actor, subject=application, payload={
                "score_result": result.pk, "model_version": version.version,
                "input_hash": record.input_hash, "policy_version": policy.version,
                "probability": f"{result.probability:.6f}", "score": f"{result.score:.2f}",
                "grade": result.grade, "recommendation": result.recommendation,
                "knockouts": [k["code"] for k in advice["knockouts"]], "trigger": trigger,
                "missing": record.missing})
    except IntegrityError:
        twin = ScoreResult.objects.filter(application_id=application_id, model_version=version,
                                          input_hash=record.input_hash).first()
        if twin is None:
            raise
        return twin
    return result


def application_score_request(*, application_id: int, actor) -> None:
    """"Score now": a person asks for a fresh score; the worker computes it after commit."""
    application = application_get(viewer=actor, application_id=application_id)  # 404 if hidden
    if not may_request_score(actor):
        raise PermissionDenied(_("You may not request a score."))
    with transaction.atomic():
        audit_record(action="score.requested", actor=actor, subject=application,
                     payload={"trigger": ScoreTrigger.ON_DEMAND})
        enqueue_on_commit(TaskName.APPLICATION_SCORE, application_id=application.pk,
                          trigger=ScoreTrigger.ON_DEMAND, actor_id=actor.pk)


def score_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Re-queue applications stuck waiting for a score: investigation accepted more than the
    policy's grace period ago, file still being decided, and no score since the acceptance.
    Brokers lose messages; the task is idempotent, so a re-send is harmless.

    An application with an open score failure is not "stuck": its retries are re-sent by
    `score_failure_sweep` within the policy's bound, and a failed one waits for a person
    (issue #20: a permanent failure used to be re-sent here every few minutes forever)."""
    from apps.investigations.models import Investigation
    from apps.investigations.states import InvestigationState

    grace = decision_policy_ensure().document["sweeper_grace_minutes"]
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=grace)
    scored_since = ScoreResult.objects.filter(application_id=OuterRef("application_id"),
                                              created_at__gte=OuterRef("accepted_at"))
    stuck = list(Investigation.objects.filter(
        state=InvestigationState.ACCEPTED, accepted_at__lt=cutoff,
        application__state__in=SCORABLE_STATES).filter(~Exists(scored_since))
        .filter(~Exists(ScoreFailure.objects.filter(application_id=OuterRef("application_id"),
                                                    state__in=OPEN_STATES)))
        .order_by("accepted_at").values_list("application_id", flat=True)[:limit])
    with transaction.atomic():
        for application_id in stuck:
            enqueue_on_commit(TaskName.APPLICATION_SCORE, application_id=application_id,
                              trigger=ScoreTrigger.SWEEPER)
    if stuck:
        logger.info("score sweep re-queued %d applications", len(stuck))
    return len(stuck) + score_failure_sweep(now=now, limit=limit)
