"""Feed by API (token auth, Idempotency-Key), the feed imports page and the loan-page partials."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.loans.feed_parse import csv_text
from apps.loans.feed_selectors import loan_dpd_history, loan_repayments
from apps.loans.models import FeedImport, RepaymentEvent
from apps.loans.tests.factories_servicing import ServicingWorld
from apps.loans.tests.test_feed_import import HEADER, rep

# Dialect-neutral: PostgreSQL decides plain batches set-based (apps.loans.feed_sql, held equal
# to the reference engine by test_feed_paths.py); SQLite runs the reference engine with the
# reads of apps.loans.feed_portable. On PostgreSQL every test runs on both engines (`feed_path`).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_path")]
URL = "/api/v1/loans/feed/"
# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


@pytest.fixture
def world():
    return ServicingWorld()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def record(rid, loan, day, principal="100.00", interest="5.00"):
    return {"source_record_id": rid, "kind": "repayment", "loan_number": loan.loan_number,
            "date": day.isoformat(), "principal": principal, "interest": interest}


def test_api_import_is_idempotent_by_key_and_by_record_id(world):
    loan = world.loan()
    client = token_client(world.user("ops.north"))
    body = {"records": [record("A1", loan, loan.value_date + dt.timedelta(days=30))]}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201, first.json()
    assert first.json()["rows_new"] == 1
    replay = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    again = client.post(URL, body, format="json")
    assert again.status_code == 201
    assert (again.json()["rows_new"], again.json()["rows_duplicate"]) == (0, 1)
    assert RepaymentEvent.objects.count() == 1
    loan.refresh_from_db()
    assert loan.dpd_as_of == today()


def test_api_refused_batch_names_each_record_and_writes_nothing(world):
    loan = world.loan()
    client = token_client(world.user("admin.north"))
    response = client.post(URL, {"records": [
        record("A1", loan, loan.value_date + dt.timedelta(days=30)),
        record("A2", loan, loan.value_date, principal="-1"),
        {"source_record_id": "A3", "kind": "repayment", "loan_number": "NOPE",
         "date": today().isoformat(), "principal": "1", "interest": "0"},
    ]}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "feed_refused"
    errors = body["feed_import"]["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(2, "negative_amount"),
                                                        (3, "unknown_loan")]
    assert all(e["reason_en"] and e["reason_zh"] for e in errors)
    assert RepaymentEvent.objects.count() == 0
    stored = FeedImport.objects.get()
    assert stored.outcome == FeedImport.Outcome.REFUSED
    detail = client.get(f"{URL}{stored.pk}/")
    assert detail.status_code == 200 and len(detail.json()["errors"]) == 2


def test_api_permissions(world):
    loan = world.loan()
    body = {"records": [record("A1", loan, today())]}
    assert APIClient().post(URL, body, format="json").status_code == 401
    assert token_client(world.user("am.north")).post(URL, body, format="json").status_code == 403
    assert token_client(world.user("am.north")).get(f"{URL}1/").status_code == 403
    assert RepaymentEvent.objects.count() == 0
    bad = token_client(world.user("ops.north")).post(URL, {"records": []}, format="json")
    assert bad.status_code == 400 and "records" in bad.json()["fields"]


def test_feed_page_lists_imports_and_takes_an_upload(world, client, tmp_path):
    loan = world.loan()
    client.force_login(world.user("ops.north"))
    url = reverse("loans:feed-imports")
    assert client.get(url).status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("bad.csv", csv_text(HEADER, [rep("R1", loan, today(), "-3", "0")]))
    response = client.post(url, {"file": bad})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Line 2:" in page and "principal is negative" in page
    good = SimpleUploadedFile("good.csv", csv_text(HEADER, [rep("R1", loan, today(), "3", "0")]))
    client.post(url, {"file": good})
    assert RepaymentEvent.objects.filter(loan=loan).count() == 1
    with translation.override("zh-hans"):
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200
    client.force_login(world.user("am.north"))
    assert client.get(url).status_code == 403
    client.force_login(world.user("auditor.north"))
    assert client.get(url).status_code == 200
    assert client.post(url, {"file": good}).status_code == 403


def test_loan_page_partials_and_their_scoping(world, tmp_path):
    from django.http import Http404

    from apps.loans.tests.test_feed_import import import_rows, rev

    loan = world.loan()
    v = loan.value_date
    import_rows(tmp_path, [rep("R1", loan, v + dt.timedelta(days=40), "1000.5", "50")])
    import_rows(tmp_path, [rev("X1", "R1", v + dt.timedelta(days=45))], name="rev.csv")
    loan.refresh_from_db()
    viewer = world.user("postloan.north")
    repayments = loan_repayments(loan=loan, viewer=viewer)
    history = loan_dpd_history(loan=loan, viewer=viewer)
    html = render_to_string("loans/partials/repayments.html",
                            {"repayments": repayments, "loan": loan})
    assert "Reversal of R1" in html and "(reversed)" in html and "1,000.50" in html
    html = render_to_string("loans/partials/dpd_history.html",
                            {"dpd_history": history, "loan": loan})
    assert "days past due" in html
    with pytest.raises(Http404):
        loan_repayments(loan=loan, viewer=world.user("postloan.south"))
    with pytest.raises(Http404):
        loan_dpd_history(loan=loan, viewer=world.user("postloan.south"))
