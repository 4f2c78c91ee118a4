"""Scores that fail: recorded, retried within a bound, listed, re-run, resolved (issue #20).

Before this, a score that failed for good was re-sent by the sweeper every ten minutes forever
and nobody saw a failed state. Now:

1. the scoring task catches the error and calls `score_failure_record`, which opens (or counts
   on) the application's `ScoreFailure` in one transaction with its audit event: `retrying`
   with the next attempt due after a back-off, or `failed` once the decision policy's
   `score_max_attempts` attempts have failed;
2. `score_failure_sweep` (inside the scoring sweeper, on beat) re-sends the retrying records
   that are due, through the outbox, and pushes their next attempt past the sweeper's grace
   so an in-flight retry is not sent twice; a lost send is re-sent after the grace. Failed
   records are never re-sent by the sweeper (the old "forever" loop);
3. a person with the right role re-runs a failed record (`score_failure_rerun`): the count
   starts again, and the score is queued through the outbox in the same transaction, so a
   committed re-run always gets its attempt (committed means done);
4. any later successful score of the application resolves the open record
   (`score_failure_resolve`, called inside the scoring transaction).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.applications.models import Application
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError, TransitionConflict
from apps.core.fsm import transition_check
from apps.core.outbox import retry_delay
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.scoring.models import ScoreFailure, ScoreResult
from apps.scoring.policy import PolicyError, score_max_attempts
from apps.scoring.scorecard.model import ArtefactError
from apps.scoring.services.registry import decision_policy_ensure
from apps.scoring.states import ScoreFailureReason, ScoreFailureState, ScoreTrigger

logger = logging.getLogger(__name__)
OPEN_STATES = (ScoreFailureState.RETRYING, ScoreFailureState.FAILED)


def failure_reason(exc: BaseException) -> tuple[str, str]:
    """(reason code, detail to show) for an error the scoring service raised.

    Only messages Credence wrote for people are kept as detail; anything else (a library's
    exception text, a repr) stays in the worker log and the page says what kind of failure it
    was in a sentence.
    """
    from apps.scoring.services.scoring import ChampionIncompatible
    from apps.scoring.services.training import ModelNotFound

    if isinstance(exc, ChampionIncompatible):
        return ScoreFailureReason.MODEL_INCOMPATIBLE, str(exc)
    if isinstance(exc, (ModelNotFound, ArtefactError)):
        return ScoreFailureReason.MODEL_UNAVAILABLE, ""
    if isinstance(exc, PolicyError):
        return ScoreFailureReason.POLICY_INVALID, ""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return ScoreFailureReason.DATABASE, ""
    if isinstance(exc, DomainError):
        return ScoreFailureReason.UNEXPECTED, str(exc)
    return ScoreFailureReason.UNEXPECTED, ""


def _open_failure(application_id: int) -> ScoreFailure | None:
    return (ScoreFailure.objects.select_for_update(of=("self",))
            .filter(application_id=application_id, state__in=OPEN_STATES).first())


def score_failure_record(*, application_id: int, exc: BaseException,
                         trigger: str = ScoreTrigger.INVESTIGATION_ACCEPTED,
                         now: dt.datetime | None = None) -> ScoreFailure | None:
    """Count one failed attempt to score the application: `retrying` with the next attempt
    due after a back-off while attempts are left, `failed` on the last one the decision
    policy allows. Returns None when the application is gone.

    A failed record that fails again (a re-run delivered twice, a score-now) stays failed:
    only a person's re-run restarts the count.
    """
    now = now or timezone.now()
    reason_code, detail = failure_reason(exc)
    error_type = f"{type(exc).__module__}.{type(exc).__qualname__}"
    for _attempt in range(2):  # a concurrent twin may open the record between read and insert
        try:
            with transaction.atomic():
                application = Application.objects.filter(pk=application_id).first()
                if application is None:
                    return None
                failure = _open_failure(application_id)
                if failure is None:
                    bound = score_max_attempts(decision_policy_ensure().document)
                    failure = ScoreFailure(application_id=application_id, max_attempts=bound,
                                           trigger=trigger, last_failed_at=now,
                                           reason_code=reason_code)
                elif failure.state == ScoreFailureState.FAILED:
                    return failure
                source = failure.state
                if failure.attempts + 1 < failure.max_attempts:
                    failure.retry_later(at=now, retry_at=now + retry_delay(failure.attempts + 1),
                                        reason_code=reason_code, detail=detail,
                                        error_type=error_type)
                    action = "score.attempt_failed"
                else:
                    failure.give_up(at=now, reason_code=reason_code, detail=detail,
                                    error_type=error_type)
                    action = "score.failed"
                failure.save()
                audit_record(action=action, actor=None, subject=application, payload={
                    "score_failure": failure.pk, "from": source, "to": failure.state,
                    "attempts": failure.attempts, "max_attempts": failure.max_attempts,
                    "reason": reason_code, "error_type": error_type, "trigger": trigger})
            return failure
        except IntegrityError:
            continue  # the twin's record exists now: count on it
    raise RuntimeError(f"could not record the score failure of application {application_id}")


def score_failure_resolve(*, application: Application, score: ScoreResult,
                          now: dt.datetime | None = None) -> ScoreFailure | None:
    """A score of the application succeeded: its open failure, if any, is resolved. Runs in
    the caller's (scoring) transaction, before its audit event (audit lock last)."""
    failure = _open_failure(application.pk)
    if failure is None:
        return None
    source = failure.state
    failure.resolve(at=now or timezone.now(), score=score)
    failure.save()
    audit_record(action="score.failure_resolved", actor=None, subject=application,
                 payload={"score_failure": failure.pk, "from": source, "to": failure.state,
                          "score_result": score.pk, "attempts": failure.attempts})
    return failure


def score_failure_rerun(*, failure_id: int, actor) -> ScoreFailure:
    """A person re-runs a failed score: 403 unless credit policy or operations, 409 unless the
    record is failed; the score is queued through the outbox in this transaction."""
    now = timezone.now()
    with transaction.atomic():
        failure = ScoreFailure.objects.select_for_update(of=("self",)).get(pk=failure_id)
        try:
            transition_check(failure.rerun, actor=actor)  # 403 "not you" before 409 "not now"
        except TransitionConflict:
            raise TransitionConflict(failure.rerun, detail=_(
                "Only a failed score can be re-run; this one is %(state)s now.")
                % {"state": failure.get_state_display().lower()}) from None
        policy = decision_policy_ensure()
        grace = dt.timedelta(minutes=policy.document["sweeper_grace_minutes"])
        source = failure.state
        failure.rerun(by=actor, at=now, max_attempts=score_max_attempts(policy.document),
                      sent_until=now + grace)
        failure.save()
        audit_record(action="score.rerun_requested", actor=actor, subject=failure.application,
                     payload={"score_failure": failure.pk, "from": source, "to": failure.state,
                              "max_attempts": failure.max_attempts})
        enqueue_on_commit(TaskName.APPLICATION_SCORE, application_id=failure.application_id,
                          trigger=ScoreTrigger.ON_DEMAND, actor_id=actor.pk)
    return failure


def score_failure_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Re-send the retrying scores whose next attempt is due; each send pushes the next
    attempt past the sweeper's grace, so a retry in flight is not sent twice and a lost one
    is sent again. Failed records are left to people."""
    now = now or timezone.now()
    grace = dt.timedelta(minutes=decision_policy_ensure().document["sweeper_grace_minutes"])
    sent = 0
    with transaction.atomic():
        # skip_locked: a record being counted or re-run right now is the other writer's
        due = list(ScoreFailure.objects.select_for_update(of=("self",), skip_locked=True)
                   .filter(state=ScoreFailureState.RETRYING, next_attempt_at__lte=now)
                   .order_by("next_attempt_at")[:limit])
        for failure in due:
            # not the state: the time of the next send, which the sweeper owns
            ScoreFailure.objects.filter(pk=failure.pk).update(next_attempt_at=now + grace)
            enqueue_on_commit(TaskName.APPLICATION_SCORE, application_id=failure.application_id,
                              trigger=ScoreTrigger.SWEEPER)
            sent += 1
    if sent:
        logger.info("score failure sweep re-sent %d retrying scores", sent)
    return sent
