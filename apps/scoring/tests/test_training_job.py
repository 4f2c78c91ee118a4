import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.scoring import services
from apps.scoring.models import ModelVersion, TrainingJob
from apps.scoring.states import ModelVersionState, TrainingJobState
from apps.scoring.synthetic import write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def loans_csv(tmp_path) -> bytes:
    path = tmp_path / "loans.csv"
    write_csv(path, 700, seed=8)
    return path.read_bytes()


def test_a_csv_uploaded_on_the_model_page_is_trained_by_one_job_with_progress(
        world, loans_csv, monkeypatch, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    sent = []
    monkeypatch.setattr("apps.core.queue.current_app.send_task",
                        lambda name, kwargs, **options: sent.append((name, kwargs)))
    client = Client()
    client.force_login(world.user("reviewer.north"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:training-start"), {
            "csv_file": SimpleUploadedFile("book.csv", loans_csv, content_type="text/csv"),
            "target": "default", "kind": "scorecard", "seed": 3})
    job = TrainingJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/")
    assert sent == [("scoring.training_job_run", {"job_id": job.pk})]
    page = client.get(response["Location"])
    assert 'hx-trigger="every 2s"' in page.content.decode()  # queued: the page polls

    job = services.training_job_run(job_id=job.pk)
    assert job.state == TrainingJobState.COMPLETED and job.progress == 100
    version = job.model_version
    assert version.state == ModelVersionState.DRAFT and version.trained_by == job.requested_by
    assert AuditEvent.objects.filter(action="model.trained", subject_id=str(version.pk)).exists()
    assert services.training_job_run(job_id=job.pk).model_version == version  # redelivery
    assert ModelVersion.objects.filter(kind="scorecard").count() == 1


def test_bad_uploads_are_refused_with_the_field_or_fail_the_job(world, loans_csv, settings,
                                                                tmp_path):
    settings.MEDIA_ROOT = tmp_path
    reviewer = world.user("reviewer.north")
    with pytest.raises(ValidationError) as refused:
        services.training_job_start(actor=reviewer, content=loans_csv, filename="b.csv",
                                    target="outcome", kind="scorecard")
    assert "target" in refused.value.message_dict
    with pytest.raises(ValidationError) as binary:
        services.training_job_start(actor=reviewer, content=b"\xff\xfe\x00bad",
                                    filename="b.csv", target="default", kind="scorecard")
    assert "csv_file" in binary.value.message_dict
    with pytest.raises(PermissionDenied):
        services.training_job_start(actor=world.user("am.north"), content=loans_csv,
                                    filename="b.csv", target="default", kind="scorecard")
    three_values = io.BytesIO(b"x,default\n1,0\n2,1\n3,2\n").getvalue()
    job = services.training_job_start(actor=reviewer, content=three_values, filename="c.csv",
                                      target="default", kind="scorecard")
    job = services.training_job_run(job_id=job.pk)
    assert job.state == TrainingJobState.FAILED and "exactly two distinct values" in job.error
    assert AuditEvent.objects.filter(action="model.training_failed").count() == 1
