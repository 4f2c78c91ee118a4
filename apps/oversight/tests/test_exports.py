"""CSV/JSON streamed, XLSX by the worker's service: escaped, hashed, verifiable later."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record, audit_record_now
from apps.oversight import services
from apps.oversight.cells import COLUMNS, safe_text
from apps.oversight.exports import MANIFEST_MARK, rows_digest
from apps.oversight.states import ExportJobState, ExportKind

pytestmark = pytest.mark.django_db

NASTY = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tcmd", "\rx"]


@pytest.fixture
def nasty_events(world):
    """Failed logins name whatever username was typed: attacker-controlled text."""
    for text in NASTY:
        audit_record_now(action="auth.login_failed", actor=None,
                         subject=("accounts.user", text), payload={"username": text})
    return AuditEvent.objects.filter(action="auth.login_failed").order_by("seq")


def _csv(response) -> tuple[list[list[str]], dict]:
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    assert rows[-1][0] == MANIFEST_MARK
    return rows[1:-1], json.loads(rows[-1][1])


def test_safe_text_neutralises_every_formula_start():
    for text in NASTY + ["\0x"]:
        assert safe_text(text) == "'" + text
    assert safe_text("Acme Ltd") == "Acme Ltd"
    assert safe_text(None) == ""


def test_csv_escapes_formulas_and_carries_hashes_and_manifest(world, client_as, nasty_events):
    response = client_as("auditor.north").get(reverse("oversight:events-csv"),
                                              {"action": "auth.login_failed"})
    assert response.status_code == 200 and response.streaming
    rows, manifest = _csv(response)
    events = list(nasty_events)
    subject = COLUMNS.index("subject_id")
    assert [row[subject] for row in rows] == ["'" + text for text in NASTY]
    assert [row[-1] for row in rows] == [e.hash for e in events]
    assert manifest["count"] == len(NASTY)
    assert (manifest["first_seq"], manifest["last_seq"]) == (events[0].seq, events[-1].seq)
    assert manifest["rows_sha256"] == rows_digest(e.hash for e in events)
    assert manifest["filters"] == {"action": "auth.login_failed"}
    # The export itself is recorded, and is not part of what it exports.
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.seq > events[-1].seq and exported.actor == world.user("auditor.north")


def test_csv_export_verifies_and_a_doctored_copy_is_caught(world, client_as, nasty_events,
                                                           tmp_path):
    response = client_as("auditor.north").get(reverse("oversight:events-csv"),
                                              {"action": "auth.login_failed"})
    original = b"".join(response.streaming_content).decode()
    good = tmp_path / "good.csv"
    good.write_text(original, encoding="utf-8")
    out = io.StringIO()
    call_command("verify_export", str(good), stdout=out)
    assert f"Export OK: {len(NASTY)} events" in out.getvalue()

    # Later events do not disturb the check: the export is pinned to its chain head.
    audit_record_now(action="auth.login_failed", actor=None, subject=("accounts.user", "x"))
    call_command("verify_export", str(good), stdout=io.StringIO())

    lines = original.splitlines(keepends=True)
    edited = tmp_path / "edited.csv"
    edited.write_text("".join([lines[0], lines[1].replace("HYPERLINK", "HYPERLUNK")]
                              + lines[2:]), encoding="utf-8")
    seq = nasty_events.first().seq
    with pytest.raises(CommandError, match=f"event {seq}: the copy differs .*subject_id"):
        call_command("verify_export", str(edited))

    dropped = tmp_path / "dropped.csv"
    dropped.write_text("".join([lines[0]] + lines[2:]), encoding="utf-8")
    with pytest.raises(CommandError, match="not those the export's filters select"):
        call_command("verify_export", str(dropped))


def test_json_export_streams_and_verifies(world, client_as, nasty_events, tmp_path):
    response = client_as("admin.north").get(reverse("oversight:events-json"),
                                            {"action": "auth.login_failed"})
    document = json.loads(b"".join(response.streaming_content))
    assert [e["subject_id"] for e in document["events"]] == ["'" + t for t in NASTY]
    assert document["events"][0]["payload"] == {"username": NASTY[0]}
    assert document["manifest"]["count"] == len(NASTY)
    path = tmp_path / "events.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    call_command("verify_export", str(path), stdout=io.StringIO())
    document["events"][2]["payload"] = {"username": "someone else"}
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="payload"):
        call_command("verify_export", str(path))


def test_invalid_filter_is_refused_with_the_field(world, client_as):
    response = client_as("auditor.north").get(reverse("oversight:events-csv"),
                                              {"application": "NOPE", "date_from": "2026-02-01",
                                               "date_to": "2026-01-01"})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"application", "date_to"}
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_xlsx_job_escapes_formulas_and_verifies(world, nasty_events, tmp_path,
                                                django_capture_on_commit_callbacks, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    auditor = world.user("auditor.north")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.export_job_request(kind=ExportKind.EVENTS_XLSX, actor=auditor,
                                          filters={"action": "auth.login_failed"})
    assert len(callbacks) == 1  # the worker is sent the job after commit
    job = services.export_job_run(job_id=job.pk)
    assert job.state == ExportJobState.DONE and job.progress == len(NASTY)
    path = tmp_path / job.file_name
    sheet = load_workbook(path, read_only=True)["events"]
    rows = list(sheet.iter_rows(values_only=True))
    subject = COLUMNS.index("subject_id")
    # XML reads a CR back as LF; the formula guard is what matters.
    assert [row[subject] for row in rows[1:]] == ["'" + t.replace("\r", "\n") for t in NASTY]
    call_command("verify_export", str(path), stdout=io.StringIO())
    assert services.export_job_run(job_id=job.pk).state == ExportJobState.DONE  # idempotent
    assert list(AuditEvent.objects.filter(action__startswith="export.")
                .values_list("action", flat=True)) == ["export.requested", "export.completed"]


def test_job_of_a_requester_who_lost_the_role_fails(world, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    auditor = world.user("auditor.north")
    job = services.export_job_request(kind=ExportKind.EVENTS_XLSX, actor=auditor, filters={})
    auditor.groups.clear()
    job = services.export_job_run(job_id=job.pk)
    assert job.state == ExportJobState.FAILED and "no longer an auditor" in job.error


def test_export_job_page_and_download(world, client_as, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    client = client_as("auditor.north")
    with_transaction = client.post(reverse("oversight:events-xlsx"), {"action": "auth.login"})
    assert with_transaction.status_code == 302
    job_url = with_transaction["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    page = client.get(job_url)
    assert page.status_code == 200 and b"hx-trigger" in page.content  # polls while queued
    services.export_job_run(job_id=job_id)
    page = client.get(job_url, HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in page.content
    download = client.get(reverse("oversight:job-download", args=[job_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1


def test_manifest_digest_is_over_the_hashes_in_order():
    assert rows_digest(["a", "b"]) != rows_digest(["b", "a"])
    assert len(rows_digest([])) == 64


def test_events_recorded_inside_atomic_are_exported_with_scope(world, client_as):
    application = world.draft()
    response = client_as("auditor.north").get(reverse("oversight:events-csv"),
                                              {"application": application.reference})
    rows, manifest = _csv(response)
    assert [row[COLUMNS.index("action")] for row in rows] == ["application.created"]
    assert rows[0][COLUMNS.index("application_id")] == str(application.pk)
    assert rows[0][COLUMNS.index("enterprise_id")] == str(application.enterprise_id)
    assert manifest["filters"] == {"application_id": application.pk}
    assert audit_record  # the writer the rows came from


def test_sweep_resends_jobs_queued_too_long(world, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    job = services.export_job_request(kind=ExportKind.EVENTS_XLSX,
                                      actor=world.user("auditor.north"), filters={})
    assert services.export_jobs_sweep() == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        later = timezone.now() + dt.timedelta(minutes=11)
        assert services.export_jobs_sweep(now=later) == 1
    assert len(callbacks) == 1 and job.state == ExportJobState.QUEUED
