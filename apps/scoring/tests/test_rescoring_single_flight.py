"""One portfolio re-score at a time, and a per-user hourly limit (issue 23)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from drf_spectacular.generators import SchemaGenerator

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.investigations.models import PolicyValue
from apps.scoring import services
from apps.scoring.models import RescoringJob
from apps.scoring.services import bulk
from apps.scoring.states import RescoringJobState
from apps.scoring.tests.helpers import challenger_like_champion

pytestmark = pytest.mark.django_db
URL = "/api/v1/rescoring/"


def _finish(job) -> None:
    RescoringJob.objects.filter(pk=job.pk).update(state=RescoringJobState.COMPLETED)


def _limit(n: int) -> None:
    PolicyValue.objects.filter(key=bulk.RESCORING_RATE_KEY).update(value=Decimal(n))


def test_a_second_request_joins_the_running_job(world, django_capture_on_commit_callbacks):
    reviewer = world.user("reviewer.north")
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = services.rescoring_start(actor=reviewer)
        second = services.rescoring_start(actor=reviewer)
    assert second.pk == first.pk and second.joined and not first.joined
    assert RescoringJob.objects.count() == 1
    assert len(sent) == 1  # one job, one message to the bulk queue
    joined = AuditEvent.objects.get(action="score.rescoring_joined")
    assert joined.subject_id == str(first.pk) and joined.actor == reviewer

    RescoringJob.objects.filter(pk=first.pk).update(state=RescoringJobState.RUNNING)
    assert services.rescoring_start(actor=reviewer).pk == first.pk  # running: still joined
    _finish(first)
    third = services.rescoring_start(actor=reviewer)  # once it ended, a new one starts
    assert third.pk != first.pk and not third.joined


def test_another_version_is_refused_while_one_runs(world):
    reviewer = world.user("reviewer.north")
    services.rescoring_start(actor=reviewer)
    challenger = challenger_like_champion(world)
    with pytest.raises(bulk.RescoringBusy) as refused:
        services.rescoring_start(actor=reviewer, model_version_id=challenger.pk)
    assert refused.value.status_code == 409
    assert RescoringJob.objects.count() == 1


def test_the_api_answers_429_past_the_hourly_limit(world, api_as):
    _limit(2)
    api = api_as("reviewer.north")
    for _ in range(2):
        response = api.post(URL)
        assert response.status_code == 202 and response.json()["joined"] is False
        _finish(RescoringJob.objects.get(pk=response.json()["id"]))
    refused = api.post(URL)
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] == "throttled"
    assert "2" in body["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert RescoringJob.objects.count() == 2
    # Another person has their own allowance.
    assert api_as("reviewer.south").post(URL).status_code == 202


def test_joining_is_not_counted_against_the_limit(world, api_as):
    _limit(1)
    api = api_as("reviewer.north")
    first = api.post(URL)
    assert first.status_code == 202
    again = api.post(URL)  # joins: starts nothing, so the limit does not apply
    assert again.status_code == 202 and again.json() == {**first.json(), "joined": True}


def test_no_policy_row_means_no_limit(world):
    PolicyValue.objects.filter(key=bulk.RESCORING_RATE_KEY).delete()
    reviewer = world.user("reviewer.north")
    for _ in range(8):
        _finish(services.rescoring_start(actor=reviewer))
    assert RescoringJob.objects.count() == 8


def test_the_limit_and_the_join_are_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["post"]
    assert "429" in operation["responses"] and "409" in operation["responses"]
    start = schema["components"]["schemas"]["RescoringJobStart"]
    assert "joined" in start["properties"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_create_one_job(on_postgresql, world):
    """Eight simultaneous requests from separate connections: the advisory lock lets exactly
    one create the job; the others join it."""
    reviewer_id = world.user("reviewer.north").pk
    from apps.accounts.models import User

    barrier, results, errors = threading.Barrier(8), [], []

    def start():
        try:
            actor = User.objects.get(pk=reviewer_id)
            barrier.wait(timeout=30)
            results.append(services.rescoring_start(actor=actor))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert RescoringJob.objects.count() == 1
    assert {job.pk for job in results} == {RescoringJob.objects.get().pk}
    assert sorted(job.joined for job in results) == [False] + [True] * 7
    assert OutboxMessage.objects.filter(task_name__startswith="scoring.").count() <= 1
