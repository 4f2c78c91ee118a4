"""The ScoreFailure state machine: every state × transition, its conditions (the bound) and
who may re-run."""

import pytest
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from apps.scoring.models import ScoreFailure
from apps.scoring.states import ScoreFailureState as S

pytestmark = pytest.mark.django_db

TRANSITIONS = ("retry_later", "give_up", "rerun", "resolve")
ALLOWED = {
    (S.RETRYING, "retry_later"), (S.RETRYING, "give_up"), (S.RETRYING, "resolve"),
    (S.FAILED, "rerun"), (S.FAILED, "resolve"),
}


def _failure(state=S.RETRYING, *, attempts=0, max_attempts=3) -> ScoreFailure:
    failure = ScoreFailure(application_id=1, max_attempts=max_attempts, attempts=attempts,
                           reason_code="unexpected", trigger="on_demand",
                           last_failed_at=timezone.now())
    failure.__dict__["state"] = state  # behind the protected descriptor, as django-fsm does
    return failure


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition_table(state, name):
    failure = _failure(state)
    assert can_proceed(getattr(failure, name), check_conditions=False) == \
        ((state, name) in ALLOWED)


@pytest.mark.parametrize("attempts,retry,give_up", [(0, True, False), (1, True, False),
                                                    (2, False, True)])
def test_the_bound_decides_between_retrying_and_failing(attempts, retry, give_up):
    failure = _failure(attempts=attempts, max_attempts=3)
    assert can_proceed(failure.retry_later) is retry
    assert can_proceed(failure.give_up) is give_up


def test_retry_later_counts_and_schedules_and_give_up_clears_the_schedule():
    now = timezone.now()
    failure = _failure(max_attempts=2)
    failure.retry_later(at=now, retry_at=now, reason_code="model_unavailable")
    assert (failure.state, failure.attempts, failure.next_attempt_at) == (S.RETRYING, 1, now)
    failure.give_up(at=now, reason_code="model_unavailable")
    assert (failure.state, failure.attempts, failure.next_attempt_at) == (S.FAILED, 2, None)
    assert failure.failed_at == now


def test_rerun_restarts_the_count_under_the_new_bound(world):
    now = timezone.now()
    failure = _failure(S.FAILED, attempts=3)
    failure.rerun(by=world.user("reviewer.north"), at=now, max_attempts=7, sent_until=now)
    assert (failure.state, failure.attempts, failure.max_attempts) == (S.RETRYING, 0, 7)
    assert failure.rerun_by == world.user("reviewer.north") and failure.failed_at is None


@pytest.mark.parametrize("username,allowed", [
    ("reviewer.north", True), ("admin.north", True), ("auditor.north", False),
    ("approver.north", False), ("am.north", False), ("lead.north", False),
    ("ops.north", False)])
def test_who_may_rerun(world, username, allowed):
    assert has_transition_perm(_failure(S.FAILED).rerun, world.user(username)) is allowed
