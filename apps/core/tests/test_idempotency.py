import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.applications.states import ApplicationState as S
from apps.audit.models import AuditEvent
from apps.core.idempotency import IDEMPOTENCY_TTL, _try_lock, idempotency_purge, request_hash
from apps.core.models import IdempotencyRecord


def _client(world, username: str) -> APIClient:
    api = APIClient()
    api.force_authenticate(world.user(username))
    return api


def _submitted_events(app) -> int:
    return AuditEvent.objects.filter(action="application.submitted",
                                     subject_id=str(app.pk)).count()


def test_a_retried_submit_is_applied_once(world):
    app = world.draft()
    api = _client(world, "am.north")
    url = f"/api/v1/applications/{app.pk}/submit/"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    retry = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert _submitted_events(app) == 1
    record = IdempotencyRecord.objects.get(key="submit-1")
    assert (record.method, record.path, record.response_status) == ("POST", url, 200)


def test_without_a_key_a_retry_runs_again(world):
    app = world.draft()
    api = _client(world, "am.north")
    url = f"/api/v1/applications/{app.pk}/submit/"
    assert api.post(url, {}, format="json").status_code == 200
    assert api.post(url, {}, format="json").status_code == 409
    assert not IdempotencyRecord.objects.exists()


def test_same_key_with_another_body_is_422(world):
    app = world.in_state(S.SUBMITTED)
    api = _client(world, "am.north")
    url = f"/api/v1/applications/{app.pk}/withdraw/"
    assert api.post(url, {"reason": "Cheaper elsewhere."}, format="json",
                    HTTP_IDEMPOTENCY_KEY="w-1").status_code == 200
    reused = api.post(url, {"reason": "Changed their mind."}, format="json",
                      HTTP_IDEMPOTENCY_KEY="w-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    # Another route with the same key is another request too.
    other = api.post(f"/api/v1/applications/{app.pk}/submit/", {"reason": "Cheaper "
                     "elsewhere."}, format="json", HTTP_IDEMPOTENCY_KEY="w-1")
    assert other.status_code == 422


def test_failures_are_replayed_not_retried(world):
    app = world.draft(purpose="")
    api = _client(world, "am.north")
    url = f"/api/v1/applications/{app.pk}/submit/"
    refused = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="s-2")
    assert refused.status_code == 400
    # The draft is fixed meanwhile; the same key still means the request that was refused.
    api.patch(f"/api/v1/applications/{app.pk}/", {"purpose": "Stock"}, format="json")
    replay = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="s-2")
    assert (replay.status_code, replay.json()) == (400, refused.json())
    assert _submitted_events(app) == 0
    # A new key is a new request.
    assert api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="s-3").status_code == 200
    assert _submitted_events(app) == 1


def test_a_403_is_stored_and_replayed_too(world):
    app = world.draft()
    api = _client(world, "reviewer.north")
    url = f"/api/v1/applications/{app.pk}/submit/"
    assert api.post(url, {}, HTTP_IDEMPOTENCY_KEY="r-1").status_code == 403
    replay = api.post(url, {}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (403, "true")


def test_keys_belong_to_their_user(world):
    first, second = world.draft(), world.draft()
    am, lead = _client(world, "am.north"), _client(world, "lead.north")
    assert am.post(f"/api/v1/applications/{first.pk}/submit/", {},
                   HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert lead.post(f"/api/v1/applications/{second.pk}/submit/", {},
                     HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert IdempotencyRecord.objects.filter(key="k").count() == 2


def test_an_overlong_key_is_400(world):
    app = world.draft()
    response = _client(world, "am.north").post(f"/api/v1/applications/{app.pk}/submit/", {},
                                               HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert _submitted_events(app) == 0


def test_create_is_idempotent(world):
    api = _client(world, "am.north")
    body = {"enterprise_id": world.enterprise().pk, "product_version_id": world.version.pk}
    first = api.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="c")
    again = api.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="c")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert AuditEvent.objects.filter(action="application.created").count() == 1


def test_the_request_hash_ignores_key_order_and_spacing():
    assert request_hash({"a": 1, "b": "x"}) == request_hash({"b": "x", "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


def test_expired_records_are_purged_and_no_longer_replayed(world):
    app = world.draft()
    api = _client(world, "am.north")
    url = f"/api/v1/applications/{app.pk}/withdraw/"
    assert api.post(url, {"reason": "x"}, HTTP_IDEMPOTENCY_KEY="old").status_code == 200
    IdempotencyRecord.objects.update(created_at=timezone.now() - IDEMPOTENCY_TTL
                                     - dt.timedelta(minutes=1))
    # Expired but not yet swept: the key is free again, so the command runs (and is refused).
    assert api.post(url, {"reason": "x"}, HTTP_IDEMPOTENCY_KEY="old").status_code == 409
    assert IdempotencyRecord.objects.get(key="old").response_status == 409
    IdempotencyRecord.objects.update(created_at=timezone.now() - IDEMPOTENCY_TTL
                                     - dt.timedelta(minutes=1))
    assert idempotency_purge() == 1
    assert not IdempotencyRecord.objects.exists()


def test_the_purge_task_is_registered_and_scheduled():
    from django.conf import settings

    from apps.core.task_names import TaskName
    from apps.core.tasks import idempotency_purge as task

    assert task.name == TaskName.CORE_IDEMPOTENCY_PURGE
    assert any(entry["task"] == TaskName.CORE_IDEMPOTENCY_PURGE
               for entry in settings.CELERY_BEAT_SCHEDULE.values())


@pytest.mark.django_db(transaction=True)
def test_a_request_still_in_flight_is_409(world):
    if connection.vendor != "postgresql":
        pytest.skip("the in-flight check uses a PostgreSQL advisory lock; SQLite serialises "
                    "writers instead")
    app = world.draft()
    user = world.user("am.north")
    holding, release = threading.Event(), threading.Event()

    def first_request_in_flight():
        try:
            with transaction.atomic():
                assert _try_lock(user.pk, "busy")
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_request_in_flight)
    thread.start()
    try:
        assert holding.wait(10)
        response = _client(world, "am.north").post(
            f"/api/v1/applications/{app.pk}/submit/", {}, HTTP_IDEMPOTENCY_KEY="busy")
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_request_in_flight"
        assert _submitted_events(app) == 0
    finally:
        release.set()
        thread.join()
    assert _client(world, "am.north").post(f"/api/v1/applications/{app.pk}/submit/", {},
                                           HTTP_IDEMPOTENCY_KEY="busy").status_code == 200
