"""On PostgreSQL the exporter renders times and payloads in the database (server-side
cursor, no JSON round trip); the copy must still match the database cell for cell, and a
real worker produces the XLSX."""

import csv
import io
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_now
from apps.oversight.cells import event_cells
from apps.oversight.models import ExportJob
from apps.oversight.states import ExportJobState

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_database_rendered_rows_equal_python_rendered_rows(on_postgresql, world, client_as,
                                                           tmp_path):
    for text in ("=1+1", "普通", "-x", 'quote " and, comma'):
        audit_record_now(action="auth.login_failed", actor=None,
                         subject=("accounts.user", text),
                         payload={"username": text, "nested": {"b": [1, "二"], "a": None}})
    response = client_as("auditor.north").get(reverse("oversight:events-csv"),
                                              {"action": "auth.login_failed"})
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))[1:-1]
    events = AuditEvent.objects.filter(action="auth.login_failed").select_related("actor")
    for row, event in zip(rows, events.order_by("seq"), strict=True):
        expected = event_cells(event)
        payload_at = 11
        assert row[:payload_at] + row[payload_at + 1:] == (expected[:payload_at]
                                                            + expected[payload_at + 1:])
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    call_command("verify_export", str(path), stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_real_worker_builds_the_xlsx(on_postgresql, live_worker, world, client_as, tmp_path,
                                     settings):
    settings.MEDIA_ROOT = str(tmp_path)
    client = client_as("auditor.north")
    response = client.post(reverse("oversight:events-xlsx"), {"action": "branch.created"})
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        if job.state in (ExportJobState.DONE, ExportJobState.FAILED):
            break
        time.sleep(0.2)
    assert job.state == ExportJobState.DONE, job.error
    assert job.manifest["count"] == AuditEvent.objects.filter(action="branch.created",
                                                              seq__lte=job.manifest[
                                                                  "chain_head"]["seq"]).count()
    call_command("verify_export", str(tmp_path / job.file_name), stdout=io.StringIO())
