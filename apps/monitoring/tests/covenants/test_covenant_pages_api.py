"""Pages and API: the loan page's section, the work list, the phone form, branch scope
(404), permission before state (403 before 409), idempotent commands, and both languages."""

import subprocess

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import AnnualReview, CovenantCheck

from .conftest import submit_check

PENDING_PO = "locale/pending/covenants.po"


def test_loan_page_section_and_worklist(world, scheduled, covenant_loan, login):
    loan, check, review = scheduled
    page = login("postloan.north").get(reverse("monitoring:loan", args=[loan.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Covenants and annual reviews" in html and "Keep at least 60%" in html
    assert reverse("monitoring:covenant_check", args=[check.pk]) in html
    assert reverse("monitoring:annual_review", args=[review.pk]) in html
    # Due in 35 days (anniversary in 65, lead time 30): not yet on the work list; a loan
    # whose review is due in 15 days is.
    soon = covenant_loan(value_days_ago=320, covenants=[])
    services.covenant_schedule_generate(loan_id=soon.pk)
    soon_review = AnnualReview.objects.get(loan=soon)
    worklist = login("postloan.north").get(reverse("monitoring:worklist")).content.decode()
    assert "Covenant checks and annual reviews" in worklist
    assert f'data-annual-review="{soon_review.pk}"' in worklist
    assert f'data-annual-review="{review.pk}"' not in worklist
    other = login("postloan.south").get(reverse("monitoring:worklist")).content.decode()
    assert loan.loan_number not in other


def test_worklist_lists_overdue_and_to_decide(world, scheduled, login):
    _loan, check, _review = scheduled
    officer = world.user("postloan.north")
    submit_check(check, officer)
    lead_list = login("lead.north").get(reverse("monitoring:worklist")).content.decode()
    assert f'data-decide-check="{check.pk}"' in lead_list
    mine = login("postloan.north").get(reverse("monitoring:worklist")).content.decode()
    assert f'data-decide-check="{check.pk}"' not in mine


def test_submit_form_and_decision_on_pages(world, scheduled, login):
    _loan, check, _review = scheduled
    officer = login("postloan.north")
    url = reverse("monitoring:covenant_check", args=[check.pk])
    form = officer.get(url).content.decode()
    assert 'name="result"' in form and 'name="note"' in form
    assert 'name="viewport"' in login("postloan.north").get(url).content.decode()
    act = reverse("monitoring:covenant_check_act", args=[check.pk, "submit"])
    refused = officer.post(act, {"result": "complied", "note": " "})
    assert refused.status_code == 400 and "Describe what you checked" in refused.content.decode()
    assert officer.post(act, {"result": "complied", "note": "Statements seen"}).status_code == 302
    # 403 before 409: the officer may never decide; the lead may, but only once.
    accept = reverse("monitoring:covenant_check_act", args=[check.pk, "accept"])
    assert officer.post(accept, {"note": ""}).status_code == 403
    lead = login("lead.north")
    assert lead.post(accept, {"note": "ok"}).status_code == 302
    assert lead.post(accept, {"note": "again"}).status_code == 409
    assert officer.post(act, {"result": "complied", "note": "again"}).status_code == 409
    # Another branch cannot even see it.
    assert login("postloan.south").get(url).status_code == 404
    assert login("lead.south").post(accept, {}).status_code == 404


def test_add_covenant_page(world, scheduled, login):
    loan, _check, _review = scheduled
    url = reverse("monitoring:covenant_add", args=[loan.pk])
    officer = login("postloan.north")
    assert officer.get(url).status_code == 200
    bad = officer.post(url, {"kind": "financial_ratio", "text": ""})
    assert bad.status_code == 400
    done = officer.post(url, {"kind": "financial_ratio", "text": "Leverage at most 70%"})
    assert done.status_code == 302
    assert loan.covenants.filter(kind="financial_ratio").exists()
    assert login("am.north").post(url, {"kind": "other", "text": "x"}).status_code == 403
    assert login("postloan.south").get(url).status_code == 404


def test_review_page(world, scheduled, login):
    _loan, _check, review = scheduled
    officer = login("postloan.north")
    act = reverse("monitoring:annual_review_act", args=[review.pk, "submit"])
    assert officer.post(act, {"outcome": "satisfactory", "note": "Visited"}).status_code == 302
    back = reverse("monitoring:annual_review_act", args=[review.pk, "return"])
    reviewer = login("reviewer.north")
    assert reviewer.post(back, {"note": ""}).status_code == 400
    assert reviewer.post(back, {"note": "Add the statements"}).status_code == 302
    html = officer.get(reverse("monitoring:annual_review", args=[review.pk])).content.decode()
    assert "Add the statements" in html and 'name="outcome"' in html


def test_api_walk(world, scheduled, api_as):
    loan, check, review = scheduled
    officer, lead = api_as("postloan.north"), api_as("lead.north")
    listed = officer.get(f"/api/v1/monitoring/loans/{loan.pk}/covenants/")
    assert listed.status_code == 200
    body = listed.json()
    assert len(body["covenants"]) == 2 and body["reviews"][0]["id"] == review.pk
    assert api_as("postloan.south").get(
        f"/api/v1/monitoring/loans/{loan.pk}/covenants/").status_code == 404
    base = f"/api/v1/monitoring/covenant-checks/{check.pk}/"
    assert officer.get(base).json()["available_actions"] == ["submit"]
    assert api_as("postloan.south").get(base).status_code == 404
    bad = officer.post(base + "submit/", {"result": "perhaps", "note": "x"}, format="json")
    assert bad.status_code == 400 and "result" in bad.json()["fields"]
    payload = {"result": "breached", "note": "Receipts 35%"}
    done = officer.post(base + "submit/", payload, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert done.status_code == 200 and done.json()["state"] == "submitted"
    replay = officer.post(base + "submit/", payload, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert officer.post(base + "submit/", payload, format="json").status_code == 409
    assert officer.post(base + "breach/", {"note": "x"}, format="json").status_code == 403
    assert lead.post(base + "breach/", {"note": ""}, format="json").status_code == 400
    breached = lead.post(base + "breach/", {"note": "Confirmed"}, format="json")
    assert breached.status_code == 200 and breached.json()["result"] == "breached"
    assert lead.post(base + "accept/", {}, format="json").status_code == 409
    added = officer.post(f"/api/v1/monitoring/loans/{loan.pk}/covenants/",
                         {"kind": "information", "text": "Monthly VAT returns"}, format="json")
    assert added.status_code == 201 and added.json()["source"] == "officer"
    assert api_as("am.north").post(f"/api/v1/monitoring/loans/{loan.pk}/covenants/",
                                   {"kind": "other", "text": "x"},
                                   format="json").status_code == 403
    mine = officer.get("/api/v1/monitoring/covenant-checks/?due=mine").json()
    assert all(row["loan_id"] == loan.pk for row in mine["results"])
    reviews = f"/api/v1/monitoring/annual-reviews/{review.pk}/"
    assert officer.post(reviews + "submit/", {"outcome": "satisfactory", "note": "ok"},
                        format="json").status_code == 200
    assert officer.post(reviews + "accept/", {}, format="json").status_code == 403
    assert api_as("reviewer.north").post(reviews + "accept/", {},
                                         format="json").json()["state"] == "accepted"


def test_api_list_is_branch_scoped(world, scheduled, covenant_loan, api_as):
    _loan, check, _review = scheduled
    south = covenant_loan(branch=world.south)
    services.covenant_schedule_generate(loan_id=south.pk)
    rows = api_as("lead.north").get("/api/v1/monitoring/covenant-checks/").json()["results"]
    ids = {row["id"] for row in rows}
    assert check.pk in ids
    assert not ids & set(CovenantCheck.objects.filter(loan=south).values_list("pk", flat=True))


@pytest.fixture
def pending_catalogue(tmp_path, settings):
    """This work's Chinese (locale/pending/covenants.po, merged into the catalogue later)
    compiled in front of the committed catalogue, so the pages can be read in Chinese now."""
    target = tmp_path / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(["msgfmt", "-o", str(target / "django.mo"),
                    str(settings.BASE_DIR / PENDING_PO)], check=True)
    with override_settings(LOCALE_PATHS=[str(tmp_path), *settings.LOCALE_PATHS]):
        yield
    translation.trans_real._translations = {}


def test_pages_in_chinese(world, scheduled, login, pending_catalogue):
    loan, check, review = scheduled
    zh = login("postloan.north", "zh-hans")
    page = zh.get(reverse("monitoring:loan", args=[loan.pk])).content.decode()
    assert "贷款承诺与年审" in page and "Covenants and annual reviews" not in page
    form = zh.get(reverse("monitoring:covenant_check", args=[check.pk])).content.decode()
    assert "检查结果" in form and "Result of the check" not in form
    worklist = zh.get(reverse("monitoring:worklist")).content.decode()
    assert "贷款承诺检查与年审" in worklist
    english = login("postloan.north").get(reverse("monitoring:loan", args=[loan.pk]))
    assert "Covenants and annual reviews" in english.content.decode()
