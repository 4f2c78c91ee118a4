"""The API: consent, pull request, list, detail, import, costs; error shape and scoping."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.datahub import services
from apps.datahub.models import Pull, Record
from apps.datahub.tests.conftest import consent_for, set_policy

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def consent_body(enterprise, **changes):
    today = timezone.localdate()
    body = {"enterprise": enterprise.pk, "signed_by": "王立", "sources": ["court", "registry"],
            "purpose": "pre_loan", "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=90)).isoformat(),
            "document_reference": "AUTH-7"}
    body.update(changes)
    return body


def test_consent_then_pull_then_cache_through_the_api(hub, people):
    api = client_for(people.am)
    response = api.post("/api/v1/datahub/consents/", consent_body(people.firm), format="json")
    assert response.status_code == 201 and response.json()["sources"] == ["court", "registry"]
    body = {"enterprise": people.firm.pk, "source": "registry", "purpose": "pre_loan"}
    response = api.post("/api/v1/datahub/pulls/", body, format="json")
    assert response.status_code == 202 and response.json()["state"] == "requested"
    pull_id = response.json()["id"]
    services.pull_run(pull_id=pull_id)
    detail = api.get(f"/api/v1/datahub/pulls/{pull_id}/").json()
    assert detail["state"] == "succeeded" and detail["cost"] == "5.00"
    registration = next(r for r in detail["records"] if r["kind"] == "registration")
    assert registration["provenance"]["format_version"] == "registry/1"
    again = api.post("/api/v1/datahub/pulls/", body, format="json")
    assert again.status_code == 200 and again.json()["channel"] == "cache"
    assert again.json()["saved"] == "5.00"
    listed = api.get(f"/api/v1/datahub/pulls/?enterprise={people.firm.pk}").json()
    assert listed["count"] == 2


def test_refusals_use_the_error_shape(hub, people):
    api = client_for(people.am)
    body = {"enterprise": people.firm.pk, "source": "court", "purpose": "pre_loan"}
    response = api.post("/api/v1/datahub/pulls/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "consent_required" and "consent" in response.json()[
        "fields"]
    bad = api.post("/api/v1/datahub/consents/",
                   consent_body(people.firm, sources=["tarot"], valid_until="2020-01-01"),
                   format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert "sources.0" in bad.json()["fields"] or "sources" in bad.json()["fields"]
    set_policy("datahub.budget.monthly", "1")
    consent_for(people.firm, people.am)
    stop = api.post("/api/v1/datahub/pulls/", body, format="json")
    assert stop.status_code == 409 and stop.json()["code"] == "budget_exhausted"


def test_another_branch_sees_404_and_a_role_without_the_right_403(hub, people):
    consent_for(people.firm, people.am)
    pull = services.pull_request(enterprise_id=people.firm.pk, source="court",
                                 purpose="pre_loan", actor=people.am)
    south = client_for(people.south_am)
    assert south.get(f"/api/v1/datahub/pulls/{pull.pk}/").status_code == 404
    assert south.get("/api/v1/datahub/pulls/").json()["count"] == 0
    body = {"enterprise": people.firm.pk, "source": "court", "purpose": "pre_loan"}
    assert south.post("/api/v1/datahub/pulls/", body, format="json").status_code == 404
    approver = client_for(people.approver)
    refused = approver.post("/api/v1/datahub/pulls/", body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert approver.get("/api/v1/datahub/pulls/").json()["count"] == 1   # may read
    auditor = client_for(people.auditor)
    assert auditor.get("/api/v1/datahub/pulls/").json()["count"] == 1    # every branch


def test_cost_report_counts_spent_and_saved_per_branch_and_officer(hub, people):
    consent_for(people.firm, people.am)
    paid = services.pull_request(enterprise_id=people.firm.pk, source="court",
                                 purpose="pre_loan", actor=people.am)
    services.pull_run(pull_id=paid.pk)
    services.pull_request(enterprise_id=people.firm.pk, source="court", purpose="pre_loan",
                          actor=people.lead)
    report = client_for(people.lead).get("/api/v1/datahub/costs/").json()
    assert report["total"]["spent"] == "3.00" and report["total"]["saved"] == "3.00"
    officers = {r["requested_by__username"]: r for r in report["by_officer"]}
    assert officers["hub.am"]["paid"] == 1 and officers["hub.lead"]["cached"] == 1
    assert [r["branch__code"] for r in report["by_branch"]] == [people.north.code]
    assert client_for(people.am).get("/api/v1/datahub/costs/").status_code == 403
    assert client_for(people.lead).get("/api/v1/datahub/costs/?month=2026-13").status_code \
        == 400


def test_cost_report_counts_per_product(hub):
    """A pull made for an application counts under its product; one made for no application
    under none."""
    from apps.applications.tests.factories import World

    world = World()
    manager = world.user("am.north")
    application = world.draft()
    consent_for(application.enterprise, manager, sources=["court", "registry"])
    for source, application_id in (("court", application.pk), ("registry", None)):
        pull = services.pull_request(enterprise_id=application.enterprise_id, source=source,
                                     purpose="pre_loan", actor=manager,
                                     application_id=application_id)
        assert services.pull_run(pull_id=pull.pk) == "succeeded"
    report = client_for(world.user("lead.north")).get("/api/v1/datahub/costs/").json()
    products = {r["application__product_version__product__code"]: r
                for r in report["by_product"]}
    code = application.product_version.product.code
    assert set(products) == {code, None}
    assert products[code]["paid"] == 1 and products[code]["spent"] == "3.00"
    assert products[None]["paid"] == 1


def test_a_court_export_is_imported_with_provenance_and_reused_by_the_cache(hub, people):
    rows = ("uscc,list,case_no,court,date,amount,status,obligation\n"
            f"{people.firm.uscc},dishonest,(2025)浙01执1号,中院,2025-08-15,,none,付款\n"
            f"{people.firm.uscc},enforcement,(2025)浙0106执2号,西湖,2025-04-02,5000,open,\n"
            "91330106000000000X,enforcement,(2025)x,y,2025-01-01,1,open,\n")
    upload = SimpleUploadedFile("court-2025-09.csv", rows.encode(), content_type="text/csv")
    response = client_for(people.lead).post(
        "/api/v1/datahub/imports/", {"source": "court", "purpose": "pre_loan", "file": upload},
        format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["unmatched"] == ["91330106000000000X"]
    [pull] = response.json()["pulls"]
    assert pull["channel"] == "file" and pull["cost"] == "0.00"
    assert Record.objects.filter(pull_id=pull["id"]).count() == 2
    consent_for(people.firm, people.am)
    cached = services.pull_request(enterprise_id=people.firm.pk, source="court",
                                   purpose="pre_loan", actor=people.am)
    assert cached.channel == "cache" and cached.answered_by_id == pull["id"]
    assert hub.court.calls == 0


def test_a_malformed_export_is_refused_naming_the_line_and_nothing_is_stored(hub, people):
    rows = ("uscc,list,case_no,court,date,amount,status,obligation\n"
            f"{people.firm.uscc},enforcement,(2025)a,c,2025-04-02,5000,open,\n"
            f"{people.firm.uscc},enforcement,(2025)b,c,not-a-date,5000,open,\n")
    upload = SimpleUploadedFile("court.csv", rows.encode(), content_type="text/csv")
    response = client_for(people.lead).post(
        "/api/v1/datahub/imports/", {"source": "court", "purpose": "pre_loan", "file": upload},
        format="multipart")
    assert response.status_code == 400 and "line 3.filed_on" in response.json()["fields"]
    assert not Pull.objects.exists() and not Record.objects.exists()


def test_a_registry_json_export_is_read_by_the_same_parser(hub, people):
    answer = {"format": "registry/1", "enterprise": hub.registry.record(people.firm.uscc)}
    upload = SimpleUploadedFile("registry.json", json.dumps([answer]).encode())
    response = client_for(people.lead).post(
        "/api/v1/datahub/imports/",
        {"source": "registry", "purpose": "pre_loan", "file": upload}, format="multipart")
    assert response.status_code == 201
    assert Record.objects.filter(kind="shareholder").count() == 2
    broken = {"format": "registry/1", "enterprise": {**answer["enterprise"], "status": "?"}}
    upload = SimpleUploadedFile("registry.json", json.dumps([broken]).encode())
    response = client_for(people.lead).post(
        "/api/v1/datahub/imports/",
        {"source": "registry", "purpose": "pre_loan", "file": upload}, format="multipart")
    assert response.status_code == 400
    assert "answers.0.enterprise.status" in response.json()["fields"]


def test_the_openapi_schema_documents_the_hub(hub, people):
    api = client_for(people.am)
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"/api/v1/datahub/pulls/", "/api/v1/datahub/consents/",
            "/api/v1/datahub/pulls/{pull_id}/", "/api/v1/datahub/costs/",
            "/api/v1/datahub/imports/"} <= set(paths)
    assert "409" in paths["/api/v1/datahub/pulls/"]["post"]["responses"]


def test_pages_show_pulls_in_sentences_and_the_cost_report(hub, people, client):
    consent_for(people.firm, people.am)
    hub.court.mode = "malformed"
    pull = services.pull_request(enterprise_id=people.firm.pk, source="court",
                                 purpose="pre_loan", actor=people.am)
    services.pull_run(pull_id=pull.pk)
    client.force_login(people.am)
    page = client.get(f"/datahub/enterprises/{people.firm.pk}/")
    assert page.status_code == 200
    assert "field result.enforcements" in page.content.decode()
    assert client.get(f"/datahub/enterprises/{people.south_firm.pk}/").status_code == 404
    assert client.get("/datahub/costs/").status_code == 403
    client.force_login(people.lead)
    report = client.get("/datahub/costs/")
    assert report.status_code == 200 and "hub.am" in report.content.decode()


@pytest.mark.parametrize(("name", "content"), [
    ("court.csv", b"uscc,list\n\x00broken\x00,\n"),
    ("court.json", b'[{"subject": "not an object", "version": "court/2"}]'),
    ("court.txt", b"anything"),
])
def test_unreadable_exports_are_refused_with_a_400(hub, people, name, content):
    upload = SimpleUploadedFile(name, content)
    response = client_for(people.lead).post(
        "/api/v1/datahub/imports/", {"source": "court", "purpose": "pre_loan", "file": upload},
        format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not Pull.objects.exists()


def test_the_same_export_imported_twice_stores_nothing_new_and_says_so(hub, people):
    rows = ("uscc,list,case_no,court,date,amount,status,obligation\n"
            f"{people.firm.uscc},enforcement,(2025)浙0106执2号,西湖,2025-04-02,5000,open,\n")
    client = client_for(people.lead)

    def send(text):
        upload = SimpleUploadedFile("court.csv", text.encode(), content_type="text/csv")
        return client.post("/api/v1/datahub/imports/",
                           {"source": "court", "purpose": "pre_loan", "file": upload},
                           format="multipart")

    first = send(rows)
    assert first.status_code == 201 and first.json()["already_imported"] == []
    again = send(rows)
    assert again.status_code == 200, again.json()
    body = again.json()
    assert body["pulls"] == [] and body["already_imported"] == [people.firm.uscc]
    assert "Nothing new" in body["detail"]
    assert Pull.objects.filter(channel="file").count() == 1
    assert Record.objects.count() == 1
    assert AuditEvent.objects.filter(action="datahub.file_imported").count() == 1
    # A new case for the same enterprise is a new answer: stored.
    more = rows + (f"{people.firm.uscc},enforcement,(2026)浙0106执3号,西湖,2026-01-02,"
                   "9000,open,\n")
    third = send(more)
    assert third.status_code == 201 and len(third.json()["pulls"]) == 1
