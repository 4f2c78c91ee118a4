"""Training jobs from the API and from the database (issue 6)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.scoring import services
from apps.scoring.models import TrainingJob
from apps.scoring.states import TrainingJobState
from apps.scoring.synthetic import write_csv
from apps.scoring.tests.test_loan_performance import _book

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("apps.core.queue.current_app.send_task",
                        lambda name, kwargs, **options: calls.append((name, kwargs)))
    return calls


def test_api_starts_a_csv_job_once_per_key_and_reports_its_progress(
        world, api_as, sent, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "loans.csv"
    write_csv(path, 700, seed=8)
    api = api_as("reviewer.north")
    url = reverse("api-training-start")

    def post():
        return api.post(url, {"source": "csv", "kind": "scorecard", "seed": 3, "target": "default",
                              "csv_file": SimpleUploadedFile("book.csv", path.read_bytes())},
                        format="multipart", HTTP_IDEMPOTENCY_KEY="train-1")

    with django_capture_on_commit_callbacks(execute=True):
        first = post()
    assert first.status_code == 202, first.content
    again = post()
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    job = TrainingJob.objects.get()
    assert sent == [("scoring.training_job_run", {"job_id": job.pk})]
    assert job.csv_file.read().startswith(path.read_bytes()[:50])  # the file, not an empty read

    detail = reverse("api-training-job", args=[job.pk])
    assert api.get(detail).json()["state"] == "queued"
    services.training_job_run(job_id=job.pk)
    body = api.get(detail).json()
    assert body["state"] == "completed" and body["progress"] == 100
    assert body["model_version"]["state"] == "draft"
    assert detail == f"/api/v1/scoring/training-jobs/{job.pk}/"
    assert api_as("am.north").get(detail).status_code == 404  # not a model viewer


def test_api_refuses_the_wrong_people_and_incomplete_requests(world, api_as, sent):
    url = reverse("api-training-start")
    assert api_as("am.north").post(url, {"source": "database"}, format="json").status_code == 403
    missing = api_as("reviewer.north").post(url, {"source": "csv"}, format="json")
    assert missing.status_code == 400 and "csv_file" in str(missing.json())
    too_few = api_as("reviewer.north").post(url, {"source": "database"}, format="json")
    assert too_few.status_code == 400 and "too few labelled loans" in str(too_few.json())
    binary = api_as("reviewer.north").post(
        url, {"source": "csv", "target": "default",
              "csv_file": SimpleUploadedFile("b.csv", b"\xff\xfe\x00bad")},
        format="multipart", HTTP_IDEMPOTENCY_KEY="binary-1")  # hashed by content, not decoded
    assert binary.status_code == 400 and "UTF-8" in str(binary.json())
    assert not TrainingJob.objects.exists() and sent == []


def test_a_database_job_trains_on_the_labelled_loans(world, api_as, sent, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    outcomes = _book(world, monkeypatch, 1000)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("reviewer.north").post(
            reverse("api-training-start"), {"source": "database", "kind": "gbm", "seed": 1},
            format="json")
    assert response.status_code == 202, response.content
    assert response.json()["labels"]["bads"] == sum(outcomes.values())
    job = services.training_job_run(job_id=response.json()["id"])
    assert job.state == TrainingJobState.COMPLETED and job.model_version.kind == "gbm"
    assert job.model_version.target == "default" and job.labels["goods"] > 0
    started = AuditEvent.objects.get(action="model.training_started")
    assert started.payload["source"] == "database"
    assert started.payload["goods"] + started.payload["bads"] == 1000


def test_the_model_page_offers_the_database_source(world, sent):
    from django.test import Client

    client = Client()
    client.force_login(world.user("reviewer.north"))
    refused = client.post(reverse("scoring:training-start"),
                          {"source": "database", "kind": "scorecard", "seed": 0})
    assert refused.status_code == 400 and "too few labelled loans" in refused.content.decode()
    missing = client.post(reverse("scoring:training-start"),
                          {"source": "csv", "kind": "scorecard", "seed": 0})
    assert missing.status_code == 400 and "Upload the CSV" in missing.content.decode()
    assert not TrainingJob.objects.exists()
