import pytest
from django.test import Client
from django.urls import reverse

from apps.scoring import services

pytestmark = pytest.mark.django_db


def _client(world, username):
    client = Client()
    client.force_login(world.user(username))
    return client


def test_score_api_reads_the_latest_score_within_the_viewers_scope(investigated, api_as):
    url = f"/api/v1/applications/{investigated.pk}/score/"
    assert api_as("reviewer.north").get(url).status_code == 404  # not scored yet
    result = services.application_score(application_id=investigated.pk)
    body = api_as("reviewer.north").get(url).json()
    assert body["id"] == result.pk and body["grade"] == result.grade
    assert body["model_version"] == result.model_version.version
    assert body["inputs"]["red_flags_r3"] == 0 and body["policy_version"] == 1
    assert api_as("reviewer.south").get(url).status_code == 404  # another branch's file


def test_score_now_api_is_for_reviewers_and_deciders(investigated, api_as, monkeypatch):
    monkeypatch.setattr("apps.core.queue.current_app.send_task", lambda *a, **k: None)
    url = f"/api/v1/applications/{investigated.pk}/score-now/"
    refused = api_as("am.north").post(url)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert api_as("reviewer.north").post(url).status_code == 202


def test_promotion_api_enforces_four_eyes(world, api_as):
    champion = services.champion_ensure()
    from apps.scoring.models import ModelVersion

    challenger = ModelVersion.objects.create(
        version="c2", kind="scorecard", artefact=champion.artefact,
        artefact_sha256=champion.artefact_sha256, training_data_sha256="x", target="default",
        features=champion.features, trained_by=world.user("admin.north"))
    services.model_version_validate(version_id=challenger.pk, actor=world.user("admin.north"))
    url = f"/api/v1/models/{challenger.pk}/"
    missing = api_as("reviewer.north").post(url + "request-promotion/", {"reason": ""})
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    assert api_as("reviewer.north").post(url + "request-promotion/",
                                         {"reason": "Better KS"}).status_code == 200
    assert api_as("reviewer.north").post(url + "approve-promotion/").status_code == 403
    response = api_as("reviewer.south").post(url + "approve-promotion/")
    assert response.status_code == 200 and response.json()["state"] == "champion"
    assert api_as("am.north").post(url + "approve-promotion/").status_code == 404


def test_the_application_page_shows_the_score_section(investigated, world):
    result = services.application_score(application_id=investigated.pk)
    page = _client(world, "reviewer.north").get(
        reverse("applications:detail", args=[investigated.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Credit score" in html and result.model_version.version in html
    assert result.get_recommendation_display() in html and "Score now" in html


def test_model_pages_are_for_risk_and_deciders(investigated, world):
    services.application_score(application_id=investigated.pk)
    version = services.champion_get()
    reviewer = _client(world, "reviewer.north")
    listing = reviewer.get(reverse("scoring:model-list"))
    assert listing.status_code == 200 and version.version in listing.content.decode()
    detail = reviewer.get(reverse("scoring:model-detail", args=[version.pk]))
    assert detail.status_code == 200
    assert "Points table" in detail.content.decode() and "Override rates" not in \
        detail.content.decode()
    assert _client(world, "am.north").get(reverse("scoring:model-list")).status_code == 404


def test_the_rescoring_page_polls_its_progress(world, monkeypatch):
    monkeypatch.setattr("apps.core.queue.current_app.send_task", lambda *a, **k: None)
    reviewer = _client(world, "reviewer.north")
    started = reviewer.post(reverse("scoring:rescoring-start"))
    assert started.status_code == 302
    page = reviewer.get(started["Location"])
    assert page.status_code == 200 and 'hx-trigger="every 2s"' in page.content.decode()
    assert _client(world, "am.north").post(reverse("scoring:rescoring-start")).status_code == 403


def test_rescoring_api_starts_one_job_and_reports_its_progress(
        world, api_as, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("apps.core.queue.current_app.send_task",
                        lambda name, kwargs, **options: sent.append((name, kwargs)))
    assert api_as("am.north").post("/api/v1/rescoring/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        started = api_as("admin.north").post("/api/v1/rescoring/")
    assert started.status_code == 202 and started.json()["state"] == "queued"
    job_id = started.json()["id"]
    assert sent == [("scoring.rescoring_run", {"job_id": job_id})]  # one task, not one per loan
    services.rescoring_run(job_id=job_id)
    body = api_as("reviewer.north").get(f"/api/v1/rescoring/{job_id}/").json()
    assert body["state"] == "completed" and body["done"] == body["total"] == 0
