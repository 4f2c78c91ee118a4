"""Scoring one application: assemble its features, score with the champion, advise with the
decision policy in force, store the result with its exact inputs (domain reference §7.1–7.2).

Idempotent per (application, model version, input hash): a task delivered twice, or re-sent
by the sweeper, finds its result and writes nothing; a changed input (a corrected answer, a
new parsed statement) is a new result. The score advises; people decide (§2.6).
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from dataclasses import replace

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, CharField, Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.applications.models import Application
from apps.applications.selectors import application_get
from apps.applications.states import ApplicationState
from apps.audit.services import audit_append_steps, audit_chain_head_steps, audit_record
from apps.core.compiled import (
    MARKER,
    Compiled,
    compiled_insert,
    compiled_insert_selecting,
    compiled_instances,
    compiled_query,
    immediately,
    inserted,
    run,
    run_together,
    sent_as_one_text,
)
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.investigations.policy import policy_values_changed_at
from apps.scoring.features.assemble import (
    application_sources_steps,
    features_of_sources,
    findings_as_text,
    records_to_columns,
)
from apps.scoring.features.spec import FEATURE_NAMES
from apps.scoring.models import FeatureSnapshot, ScoreFailure, ScoreResult
from apps.scoring.permissions import may_request_score
from apps.scoring.policy import DEFAULT_SHADOW_STATES, recommend
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
from apps.scoring.services.shadow import (
    scoring_models_steps,
    shadow_scores_record,
    shadow_states,
)
from apps.scoring.states import ModelVersionState, ScoreTrigger

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
    # Reads only, outside the write transaction, in one round trip on PostgreSQL
    # (apps.core.compiled.run_together): the application row (nothing here locks it: the
    # score is idempotent per input hash, see the module docstring) with its enterprise,
    # investigation and template, whether a failure is open (a failure recorded after this
    # read is re-run by the sweeper, which finds this score and resolves it then), which
    # decision policy is in force (its published version is cached by id in the process, so
    # a publish decides the next score) and when the policy values last changed (those in
    # force are cached per change the same way); the feature sources, read by the
    # application's id; the champion with the challengers scoring in shadow; and the
    # application's results by the champion, among which a replay (delivered twice, nothing
    # changed) finds its own, so it opens no transaction; and the id a fresh result will have
    # (`_result_id_steps`: a sequence's next value, not a read). The challengers are those of the
    # policy this process last scored with: a policy in force that names others has them read
    # again (once, on the score after a publish). Seeding a missing policy or model has its
    # own transaction.
    guessed = _shadow_guess
    (application, investigation), sources, (version, challengers), results, result_id = (
        run_together(_application_steps(application_id),
                     application_sources_steps(application_id),
                     scoring_models_steps(states=guessed),
                     _champion_results_steps(application_id), _result_id_steps(),
                     prepared=True))
    policy = decision_policy_cached(application.policy_in_force_id)
    if shadow_states(policy) != guessed:
        _remember_shadow_states(shadow_states(policy))
        version, challengers = run(scoring_models_steps(policy))
    record = features_of_sources(application, investigation, sources,
                                 policy_changed_at=(application.policy_values_changed_at,))
    input_hash = record.input_hash  # hashed once: the canonical JSON of every value
    _check_features(version)
    existing = next((r for r in results if r.model_version_id == version.pk
                     and r.input_hash == input_hash), None)
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
    # The snapshot in one statement whether or not an earlier score stored it (insert, or on
    # the same input keep the stored one: its values are those hashed); the result names it
    # by its key (a subquery), so both inserts go in one round trip (apps.core.compiled).
    # When nothing else is written before the audit event (no failure to resolve, no
    # challenger), the chain's lock and the event go in that round trip too (lock order, row
    # locks first and the audit lock last, is kept): PostgreSQL finds the event's place in
    # the chain and hashes it (`audit_append_steps`), and the event names the result by the
    # id the read took from the result's sequence (`_result_id_steps`), so nothing written
    # has to be read back first. In a transaction of the score's own that text is the whole
    # transaction: sent in autocommit with no BEGIN or COMMIT, PostgreSQL runs it as one
    # (an error in any statement, such as the twin's conflict, rolls back all of it). Was
    # six round trips, then three (BEGIN, the writes with the chain's head, the event with
    # the COMMIT); now one.
    snapshot = FeatureSnapshot(
        application_id=application_id, input_hash=input_hash,
        spec_version=record.canonical()["spec"], values=record.values,
        red_flag_codes=record.red_flag_codes, sources=record.sources)
    result = ScoreResult(
        pk=result_id, application_id=application_id, model_version=version,
        input_hash=input_hash, probability=scored["probability"],
        score=scored["score"], grade=advice["grade"], reasons=scored["reasons"],
        policy=policy, recommendation=advice["recommendation"],
        knockouts=advice["knockouts"], suggested_limit=advice["suggested_limit"],
        price_band=advice["price_band"], trigger=trigger)
    lock_now = not application.score_failure_open and not challengers
    # The commit of a score the sweeper re-sends when it is missing (the investigation's
    # acceptance, or the sweeper's own re-send: `score_sweep` finds an accepted investigation
    # with no score since) does not wait for its WAL to reach disk (PostgreSQL's asynchronous
    # commit, this transaction only, as the portfolio re-score's chunks): a crash can lose only
    # the last commits, each whole (snapshot, result and audit event together, never a hole in
    # the audit chain: any later ordinary commit flushes the log up to itself), and the
    # sweeper scores the file again, to the same result (idempotent). On a busy disk the flush
    # was a large share of the score's write. Only in a transaction of its own: inside a
    # caller's, the setting would reach the caller's whole commit (so would it with autocommit
    # off: the connection's transaction is then the caller's too).
    own_transaction = not connection.in_atomic_block and connection.get_autocommit()
    asynchronous = (trigger in _SWEPT_TRIGGERS and connection.vendor == "postgresql"
                    and own_transaction)
    inserts = [*([_ASYNC_COMMIT] if asynchronous else []),
               compiled_insert("scoring_snapshot", snapshot,
                               unique_fields=("application", "input_hash"),
                               update_fields=("spec_version",)),
               compiled_insert_selecting("scoring_result", result, "snapshot_id",
                                         _snapshot_id_query(application_id, input_hash),
                                         with_pk=result_id is not None)]

    def audited() -> dict:
        return {
            "score_result": result.pk, "model_version": version.version,
            "input_hash": input_hash, "policy_version": policy.version,
            "probability": f"{result.probability:.6f}", "score": f"{result.score:.2f}",
            "grade": result.grade, "recommendation": result.recommendation,
            "knockouts": [k["code"] for k in advice["knockouts"]], "trigger": trigger,
            "missing": record.missing}

    try:
        if lock_now and result_id is not None:  # one text (see above)
            with nullcontext() if own_transaction else transaction.atomic():
                (*_set, snapshot_rows, result_rows), _event = run_together(
                    _sent(inserts), audit_append_steps(
                        action="score.computed", actor=actor, subject=application,
                        payload=audited(), one_text=own_transaction))
                inserted(snapshot, snapshot_rows)
                inserted(result, result_rows)
                result.snapshot = snapshot
            return result
        with transaction.atomic():
            (*_set, snapshot_rows, result_rows), head = run_together(
                _sent(inserts),
                audit_chain_head_steps() if lock_now else immediately(lambda: None))
            inserted(snapshot, snapshot_rows)
            inserted(result, result_rows)
            result.snapshot = snapshot
            if application.score_failure_open:
                score_failure_resolve(application=application, score=result)
            # Challengers score the same input in shadow: stored apart, never read by decisions.
            shadow_scores_record(application_id=application_id, record=record,
                                 snapshot=snapshot, policy=policy, trigger=trigger,
                                 versions=challengers)
            audit_record(action="score.computed", actor=actor, subject=application,
                         payload=audited(), head=head,
                         # the event is the transaction's last write: committed with it
                         commit=lock_now and own_transaction)
    except IntegrityError:
        twin = ScoreResult.objects.filter(application_id=application_id, model_version=version,
                                          input_hash=input_hash).first()
        if twin is None:
            raise
        return twin
    return result


_SWEPT_TRIGGERS = (ScoreTrigger.INVESTIGATION_ACCEPTED, ScoreTrigger.SWEEPER)
_ASYNC_COMMIT = Compiled("scoring_async_commit",
                         "SELECT set_config('synchronous_commit', 'off', true)", (),
                         (CharField(),))


# Stands for the input hash in the compiled snapshot key lookup (`_snapshot_id_query`).
_HASH_MARKER = "credence:input-hash"


def _snapshot_id_query(application_id: int, input_hash: str):
    """The id of the application's snapshot of `input_hash`, as the result's insert names it
    (a subquery: the snapshot is upserted in the same text); compiled once per process."""
    query = compiled_query("scoring_snapshot_id", lambda marker: list(
        FeatureSnapshot.objects.filter(application_id=marker, input_hash=_HASH_MARKER)
        .values_list("pk")[:1]), application_id,
        output_fields=[FeatureSnapshot._meta.pk])
    if query.params.count(_HASH_MARKER) != 1:  # pragma: no cover - the ORM changed its SQL
        raise RuntimeError("scoring_snapshot_id: the input hash is not one parameter")
    return replace(query, params=tuple(input_hash if p == _HASH_MARKER else p
                                       for p in query.params))


def _sent(queries):
    """A step of `run_together` that sends `queries` and returns their rows."""
    return (yield queries)


# The shadow states of the policy this process last scored with (`application_score`).
_shadow_guess: tuple[str, ...] = tuple(
    s for s in DEFAULT_SHADOW_STATES if s != ModelVersionState.CHAMPION)


def _remember_shadow_states(states: tuple[str, ...]) -> None:
    global _shadow_guess
    _shadow_guess = states


def _application_steps(application_id: int):
    """The application (as `Application.objects.get`, with the annotations scoring reads) with
    its enterprise set, and its investigation with its template (None when it has none; its
    findings read as text, `findings_as_text`: the score needs only their codes), as a
    step of `run_together`: four statements keyed by the application's id, each compiled once
    per process (the ORM's build of the one query with its joins and subqueries cost more
    than PostgreSQL's answer). Raises Application.DoesNotExist."""
    from apps.investigations.models import ChecklistTemplate, Investigation
    from apps.parties.models import Enterprise

    today = timezone.localdate()
    rows, enterprises, investigations, templates = yield [
        compiled_instances(f"scoring_application:{today.isoformat()}", lambda: (
            Application.objects.filter(pk=MARKER).order_by().annotate(
                score_failure_open=Exists(ScoreFailure.objects.filter(
                    application_id=OuterRef("pk"), state__in=OPEN_STATES)),
                policy_in_force_id=Subquery(decision_policies_in_force(today)
                                            .values("pk")[:1]),
                policy_values_changed_at=policy_values_changed_at())), application_id),
        compiled_instances("scoring_application_enterprise", lambda: Enterprise.objects.filter(
            applications__pk=MARKER).order_by(), application_id),
        compiled_instances("scoring_application_investigation", lambda: findings_as_text(
            Investigation.objects.filter(application_id=MARKER).order_by()), application_id),
        compiled_instances("scoring_application_template", lambda: (
            ChecklistTemplate.objects.filter(investigations__application_id=MARKER)
            .order_by()), application_id)]
    if not rows:
        raise Application.DoesNotExist(f"application {application_id} does not exist")
    (application,), (enterprise,) = rows, enterprises
    application.enterprise = enterprise
    investigation = investigations[0] if investigations else None
    if investigation is not None:
        investigation.template = templates[0]
        investigation.application = application
    # As select_related leaves it: `application.investigation` read, no query (None: raises).
    Application.investigation.related.set_cached_value(application, investigation)
    return application, investigation


def _result_id_steps():
    """The id of the result a fresh score will write, taken from the result table's sequence
    in the read's round trip, as a step of `run_together` (None where the write is not one
    text: SQLite, or PostgreSQL with server-side binding). The audit event names the result,
    and its hash covers that name: known before the write, both go in one text. A replay
    leaves its id unused (a gap in the ids, as a rolled-back insert leaves)."""
    if not sent_as_one_text():
        return None
    (rows,) = yield [_RESULT_ID]
    return rows[0][0]


_RESULT_ID = Compiled("scoring_result_id", "SELECT nextval(pg_get_serial_sequence("
                      f"'{ScoreResult._meta.db_table}', 'id'))", (), (BigIntegerField(),),
                      template=())  # no value: prepared once per connection all the same


def _champion_results_steps(application_id: int):
    """The application's results by the model version in the champion state, as a step of
    `run_together`: read with the feature sources, before the input hash is known (a file has
    a handful of results per model: one per input), so the idempotent replay costs no read of
    its own. Compiled once per process."""
    (results,) = yield [compiled_instances(
        "scoring_champion_results", lambda: ScoreResult.objects.filter(
            application_id=MARKER, model_version__state=ModelVersionState.CHAMPION).order_by(),
        application_id)]
    return results


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
