"""A score that fails: counted, retried by the sweeper within the policy's bound, failed and
never re-sent by itself, re-run by a person, resolved by a later score (issue #20)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.core.models import OutboxMessage
from apps.scoring import services
from apps.scoring.models import ScoreFailure
from apps.scoring.policy import DEFAULT_POLICY, PolicyError, validate_policy
from apps.scoring.selectors import latest_score
from apps.scoring.states import ScoreFailureState as S
from apps.scoring.tests.failure_helpers import (
    break_champion,
    publish_max_attempts,
    repair_champion,
    score_task,
)

pytestmark = pytest.mark.django_db


def _score_sends(application_id):
    return OutboxMessage.objects.filter(task_name="scoring.application_score",
                                        kwargs__application_id=application_id).count()


def _actions(application):
    return list(AuditEvent.objects.filter(subject_id=str(application.pk),
                                          action__startswith="score.")
                .order_by("seq").values_list("action", flat=True))


def test_a_failing_score_is_retried_up_to_the_policy_bound_then_failed(world, investigated):
    publish_max_attempts(world, 3)
    break_champion()
    assert score_task(investigated.pk) is None  # the task records, it does not raise
    failure = ScoreFailure.objects.get(application=investigated)
    assert (failure.state, failure.attempts, failure.max_attempts) == (S.RETRYING, 1, 3)
    assert failure.reason_code == "model_unavailable"
    assert failure.error_type.endswith("ArtefactError")
    assert failure.next_attempt_at > failure.last_failed_at  # backed off

    # the sweeper re-sends it when due, once: the in-flight retry is not sent again
    sends = _score_sends(investigated.pk)
    due = failure.next_attempt_at + dt.timedelta(seconds=1)
    assert services.score_sweep(now=due) == 1
    assert _score_sends(investigated.pk) == sends + 1
    assert services.score_sweep(now=due) == 0

    score_task(investigated.pk, trigger="sweeper")
    failure.refresh_from_db()
    assert (failure.state, failure.attempts) == (S.RETRYING, 2)
    score_task(investigated.pk, trigger="sweeper")
    failure.refresh_from_db()
    assert (failure.state, failure.attempts) == (S.FAILED, 3)
    assert failure.failed_at is not None and failure.next_attempt_at is None
    assert _actions(investigated) == ["score.attempt_failed", "score.attempt_failed",
                                      "score.failed"]

    # failed: neither the failure sweep nor the unscored-application sweep re-sends it
    sends = _score_sends(investigated.pk)
    assert services.score_sweep(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert _score_sends(investigated.pk) == sends
    # a failed record that fails again (a duplicate delivery) is not counted on
    score_task(investigated.pk)
    failure.refresh_from_db()
    assert (failure.state, failure.attempts) == (S.FAILED, 3)
    assert ScoreFailure.objects.filter(application=investigated).count() == 1


def test_the_bound_is_policy_data(world, investigated):
    publish_max_attempts(world, 1)
    break_champion()
    score_task(investigated.pk)
    failure = ScoreFailure.objects.get(application=investigated)
    assert (failure.state, failure.attempts, failure.max_attempts) == (S.FAILED, 1, 1)


def test_without_a_bound_in_the_policy_the_default_applies(investigated):
    break_champion()
    score_task(investigated.pk)
    assert ScoreFailure.objects.get(application=investigated).max_attempts == \
        DEFAULT_POLICY["score_max_attempts"]


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "3", 101])
def test_a_policy_with_a_bad_bound_is_refused(value):
    with pytest.raises(PolicyError, match="score_max_attempts"):
        validate_policy({**DEFAULT_POLICY, "score_max_attempts": value})


def test_a_rerun_after_the_fix_scores_and_resolves(world, investigated):
    publish_max_attempts(world, 1)
    original = break_champion()
    score_task(investigated.pk)
    failure = ScoreFailure.objects.get(application=investigated)
    repair_champion(original)

    sends = _score_sends(investigated.pk)
    services.score_failure_rerun(failure_id=failure.pk, actor=world.user("reviewer.north"))
    failure.refresh_from_db()
    assert (failure.state, failure.attempts) == (S.RETRYING, 0)
    assert failure.rerun_by == world.user("reviewer.north")
    sent = OutboxMessage.objects.filter(task_name="scoring.application_score").latest("id")
    assert _score_sends(investigated.pk) == sends + 1  # queued in the re-run's transaction
    assert sent.kwargs["trigger"] == "on_demand"

    result_id = score_task(**sent.kwargs)
    failure.refresh_from_db()
    assert failure.state == S.RESOLVED and failure.resolved_by_score_id == result_id
    assert latest_score(application_id=investigated.pk).pk == result_id
    assert _actions(investigated)[-3:] == ["score.rerun_requested", "score.failure_resolved",
                                           "score.computed"]


def test_a_later_successful_score_resolves_a_retrying_failure(investigated):
    original = break_champion()
    score_task(investigated.pk)
    repair_champion(original)
    result = services.application_score(application_id=investigated.pk)
    failure = ScoreFailure.objects.get(application=investigated)
    assert failure.state == S.RESOLVED and failure.resolved_by_score == result
    # a new failure later opens a new record; the resolved one stays as history
    break_champion()
    from apps.investigations.models import Answer

    Answer.objects.filter(investigation__application=investigated,
                          item__code="B3_INQUIRIES").update(value="7")  # a new input
    score_task(investigated.pk)
    assert list(ScoreFailure.objects.filter(application=investigated)
                .order_by("id").values_list("state", flat=True)) == [S.RESOLVED, S.RETRYING]


def test_rerun_is_403_before_409(world, investigated):
    break_champion()
    score_task(investigated.pk)  # retrying, not failed
    failure = ScoreFailure.objects.get(application=investigated)
    with pytest.raises(PermissionDenied):
        services.score_failure_rerun(failure_id=failure.pk, actor=world.user("auditor.north"))
    with pytest.raises(TransitionConflict, match="Only a failed score can be re-run"):
        services.score_failure_rerun(failure_id=failure.pk, actor=world.user("admin.north"))
    assert not AuditEvent.objects.filter(action="score.rerun_requested").exists()


def test_a_database_error_is_left_to_celery_retries_first(investigated, monkeypatch):
    from django.db import OperationalError

    from apps.scoring.tasks import application_score

    calls = []

    def down(**kwargs):
        calls.append(kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("apps.scoring.services.application_score", down)
    result = application_score.apply(kwargs={"application_id": investigated.pk})
    # autoretry_for: Celery retries (eagerly here) with its own back-off, and only once its
    # retries are spent is the failure recorded
    assert result.successful() and result.result is None
    assert len(calls) == application_score.max_retries + 1
    failure = ScoreFailure.objects.get(application=investigated)
    assert failure.reason_code == "database" and failure.attempts == 1
