"""The loan-book API: contract, drawdowns four-eyes with Idempotency-Key, loans, schedules,
the PDF; errors as {code, detail, fields}; 404 across branches; constant query counts."""

import subprocess
import tempfile

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.applications.states import ApplicationState as S
from apps.audit.models import AuditEvent


def test_contract_drawdowns_loans_and_schedule_via_api(world, api_as):
    application = world.approved()
    maker, checker = api_as("ops.north"), api_as("ops2.north")
    url = f"/api/v1/contracts/applications/{application.pk}/"
    assert api_as("am.north").post(url, {}, format="json").status_code == 403
    assert api_as("ops.south").post(url, {}, format="json").status_code == 404
    created = maker.post(url, {"signing_mode": "video", "signing_witness": "ops2.north"},
                         format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert created.status_code == 201, created.json()
    contract = created.json()
    assert contract["amount"] == f"{application.amount_approved:.2f}"
    assert maker.post(url, {}, format="json").status_code == 409

    request_url = f"/api/v1/contracts/{contract['id']}/disbursements/"
    body = {"amount": "150000.00", "value_date": timezone.localdate().isoformat(),
            "borrower_account": "6222020200112233", "payment_mode": "independent"}
    too_much = maker.post(request_url, {**body, "amount": "99999999.00"}, format="json")
    assert too_much.status_code == 400 and "amount" in too_much.json()["fields"]
    assert maker.post(request_url, {**body, "amount": 1.5}, format="json").status_code == 400
    first = maker.post(request_url, body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    replay = maker.post(request_url, body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == replay.status_code == 201
    assert first.json()["id"] == replay.json()["id"]
    second = maker.post(request_url, {**body, "amount": "50000.00"}, format="json")
    assert second.status_code == 201

    approve = f"/api/v1/loans/disbursements/{first.json()['id']}/approve/"
    refused = maker.post(approve, {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    booked = checker.post(approve, {"note": "Checked"}, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert booked.status_code == 201, booked.json()
    loan = booked.json()
    assert loan["principal"] == "150000.00" and loan["state"] == "active"
    rejected = checker.post(f"/api/v1/loans/disbursements/{second.json()['id']}/reject/",
                            {"note": "Wrong account"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    application.refresh_from_db()
    assert application.state == S.DISBURSED

    detail = maker.get(f"/api/v1/contracts/{contract['id']}/").json()
    assert detail["drawn"]["approved"] == "150000.00" and len(detail["disbursements"]) == 2
    schedule = maker.get(f"/api/v1/loans/{loan['id']}/schedule/").json()
    assert len(schedule) == contract["term_months"]
    assert sum(float(r["principal"]) for r in schedule) == 150000.0
    assert api_as("ops.south").get(f"/api/v1/loans/{loan['id']}/").status_code == 404
    assert api_as("ops.south").get(f"/api/v1/contracts/{contract['id']}/pdf/").status_code \
        == 404

    pdf = maker.get(f"/api/v1/contracts/{contract['id']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf.content)
        handle.flush()
        fonts = subprocess.run(["pdffonts", handle.name], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        text = subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, text=True,
                              check=True).stdout
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    assert "借款合同" in text and contract["contract_number"] in text and "万元" in text
    assert AuditEvent.objects.filter(action="contract.downloaded").count() == 1

    listed = maker.get("/api/v1/loans/", {"state": "active"}).json()
    assert listed["count"] == 1
    assert maker.get("/api/v1/loans/", {"dpd_min": 1}).json()["count"] == 0
    assert maker.get("/api/v1/loans/", {"state": "nonsense"}).status_code == 400
    assert api_as("ops.south").get("/api/v1/loans/").json()["count"] == 0


def test_loan_list_query_count_is_constant(world, api_as):
    contract = world.contract()
    for _ in range(3):
        world.loan(contract, "1000.00")
    api = api_as("ops.north")
    api.get("/api/v1/loans/")  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/loans/", {"limit": 1}).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert api.get("/api/v1/loans/", {"limit": 50}).json()["count"] == 3
    assert len(many) == len(few) <= 4
