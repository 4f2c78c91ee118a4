"""The documents API: multipart upload exactly as the forms' JavaScript sends it, list, detail,
checklist, re-run and waivers, with `{code, detail, fields}` errors."""

from pathlib import Path

import pytest
from django.conf import settings

from apps.documents import checking
from apps.documents.models import Document, DocumentRequirement
from apps.documents.tests import corpus
from apps.documents.tests.conftest import stored_files, upload_file
from apps.documents.tests.helpers import SITE, site_photo_bytes, sited_draft

pytestmark = pytest.mark.django_db


def post_file(client, app, data, name, **fields):
    return client.post(f"/api/v1/applications/{app.pk}/documents/",
                       {"file": upload_file(data, name), **fields}, format="multipart")


def test_upload_with_device_position_then_read_back(docs, api_as):
    app, client = sited_draft(docs), api_as("am.north")
    response = post_file(client, app, site_photo_bytes(5), "gate.jpg",
                         document_type="site_photo", device_lat=str(SITE[0]),
                         device_lng=str(SITE[1]), device_accuracy_m="6.5", item_code="C1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "uploaded" and len(body["sha256"]) == 64
    assert body["duplicate_of"] == [] and body["item_code"] == "C1"
    assert [c["kind"] for c in body["checks"]] == ["photo"]
    document = Document.objects.get(pk=body["id"])
    assert document.metadata["device"] == {"lat": "31.2304000", "lng": "121.4737000",
                                           "accuracy_m": "6.50"}

    checking.document_check(document_id=document.pk)
    detail = client.get(f"/api/v1/documents/{document.pk}/").json()
    assert detail["state"] == "passed"
    [check] = detail["checks"]
    assert check["status"] == "passed" and check["checker_version"] == "photo-1"
    assert check["findings"]["site_distance_m"] < 100
    listed = client.get(f"/api/v1/applications/{app.pk}/documents/").json()
    assert [d["id"] for d in listed] == [document.pk]


def test_refused_file_gives_the_reason_and_leaves_nothing(docs, api_as):
    app, before = sited_draft(docs), stored_files()
    response = post_file(api_as("am.north"), app, corpus.pdf_encrypted(), "s.pdf",
                         document_type="bank_statement")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "pdf_encrypted" and "encrypted" in body["fields"]["file"][0]
    assert stored_files() == before and not Document.objects.exists()


def test_bad_details_are_field_errors(docs, api_as):
    app, before = sited_draft(docs), stored_files()
    response = post_file(api_as("am.north"), app, site_photo_bytes(1), "p.jpg",
                         document_type="site_photo", device_lat="95")
    assert response.status_code == 400 and "device_lat" in response.json()["fields"]
    response = post_file(api_as("am.north"), app, site_photo_bytes(1), "p.jpg",
                         document_type="site_photo", device_lat="31.2")
    assert response.status_code == 400 and "device_lng" in response.json()["fields"]
    assert not Document.objects.exists()
    assert stored_files() == before


def test_other_branch_and_readers(docs, api_as):
    app = sited_draft(docs)
    response = post_file(api_as("am.south"), app, corpus.pdf(), "s.pdf",
                         document_type="bank_statement")
    assert response.status_code == 404
    response = post_file(api_as("reviewer.north"), app, corpus.pdf(), "s.pdf",
                         document_type="bank_statement")
    assert response.status_code == 403
    assert api_as("am.south").get(f"/api/v1/applications/{app.pk}/document-checklist/"
                                  ).status_code == 404


def test_checklist_recheck_and_waivers(docs, api_as):
    app = sited_draft(docs)
    am, lead = api_as("am.north"), api_as("lead.north")
    rows = am.get(f"/api/v1/applications/{app.pk}/document-checklist/").json()
    statement_row = next(r for r in rows if r["document_type"] == "bank_statement")
    assert (statement_row["status"], statement_row["blocking"]) == ("missing", True)

    created = post_file(am, app, corpus.pdf(), "s.pdf", document_type="bank_statement").json()
    # Still checking: re-run is not possible yet.
    assert am.post(f"/api/v1/documents/{created['id']}/recheck/").status_code == 409
    checking.document_check(document_id=created["id"])
    response = am.post(f"/api/v1/documents/{created['id']}/recheck/",
                       HTTP_IDEMPOTENCY_KEY="recheck-1")
    assert response.status_code == 202 and response.json()["state"] == "checking"
    replay = am.post(f"/api/v1/documents/{created['id']}/recheck/",
                     HTTP_IDEMPOTENCY_KEY="recheck-1")
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    checking.document_check(document_id=created["id"])

    assert am.post(f"/api/v1/documents/{created['id']}/waive/",
                   {"reason": "Paper statement verified at the counter."}).status_code == 403
    short = lead.post(f"/api/v1/documents/{created['id']}/waive/", {"reason": "ok"})
    assert short.status_code == 400 and "reason" in short.json()["fields"]
    waived = lead.post(f"/api/v1/documents/{created['id']}/waive/",
                       {"reason": "Paper statement verified at the counter."})
    assert waived.status_code == 200 and waived.json()["state"] == "waived"

    tax = DocumentRequirement.objects.get(product__code="tax-credit-loan",
                                          document_type__code="tax_record")
    url = f"/api/v1/applications/{app.pk}/document-requirements/{tax.pk}/waive/"
    response = lead.post(url, {"reason": "Registered four months ago, no returns yet."})
    assert response.status_code == 201 and response.json()["waived_by"] == "lead.north"
    again = lead.post(url, {"reason": "Registered four months ago, no returns yet."})
    assert again.status_code == 409 and again.json()["code"] == "already_waived"
    rows = {r["document_type"]: r for r in am.get(
        f"/api/v1/applications/{app.pk}/document-checklist/").json()}
    assert rows["tax_record"]["status"] == "waived"
    assert rows["bank_statement"]["status"] in {"passed", "waived"}


def test_stored_files_are_outside_the_static_roots(docs, api_as):
    app = sited_draft(docs)
    body = post_file(api_as("am.north"), app, corpus.pdf(), "s.pdf",
                     document_type="bank_statement").json()
    stored = Path(settings.MEDIA_ROOT) / Document.objects.get(pk=body["id"]).storage_name
    assert stored.exists() and not str(stored).startswith(str(settings.STATIC_ROOT))


def test_reads_take_the_same_queries_whatever_the_number_of_documents(docs, api_as, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from apps.documents.tests.helpers import upload_statement

    app = sited_draft(docs)
    am = api_as("am.north")
    client.force_login(docs.user("am.north"))
    urls = [f"/api/v1/applications/{app.pk}/documents/",
            f"/api/v1/applications/{app.pk}/document-checklist/"]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert am.get(url).status_code == 200
            found.append(len(queries))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("documents:checklist", args=[app.pk])).status_code == 200
        return [*found, len(queries)]

    upload_statement(docs, app)
    counts()  # warm the per-process caches (content types, roles)
    few = counts()
    for _ in range(4):
        checking.document_check(document_id=upload_statement(docs, app).pk)
    assert counts() == few
    assert few[0] <= 6 and few[1] <= 6  # scope (user, branches), application, rows, checks
