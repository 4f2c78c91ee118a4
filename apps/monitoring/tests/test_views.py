"""Pages: the work list, a loan's monitoring page with its forms and errors, the review
queue and the branch view, in both languages, scoped by branch."""

import pytest
from django.test import Client

from apps.monitoring.services.signals import signal_raise


@pytest.fixture
def login(world):
    def client(username, language="en"):
        browser = Client(HTTP_ACCEPT_LANGUAGE=language)
        browser.force_login(world.user(username))
        return browser
    return client


def test_worklist_and_loan_page(world, login):
    loan = world.loan()
    signal_raise(loan_id=loan.pk, code="W17", observed="diverted", source="first check")
    page = login("postloan.north").get("/monitoring/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Loan used contrary to the agreed purpose" in html and "Freeze credit lines" in html
    zh = login("postloan.north", "zh-hans").get(f"/monitoring/loans/{loan.pk}/")
    assert "贷款挪用" in zh.content.decode()
    assert login("postloan.south").get(f"/monitoring/loans/{loan.pk}/").status_code == 404


def test_refused_proposal_shows_the_reason(world, login):
    loan = world.loan(dpd=120)
    response = login("postloan.north").post(f"/monitoring/loans/{loan.pk}/propose/",
                                            {"category": "normal", "reason": "fine"})
    assert response.status_code == 400
    assert "120 days past due" in response.content.decode()
    ok = login("postloan.north").post(f"/monitoring/loans/{loan.pk}/propose/",
                                      {"category": "doubtful", "reason": "Owner gone"})
    assert ok.status_code == 302
    review = login("reviewer.north").get("/monitoring/review/").content.decode()
    assert loan.loan_number in review


def test_action_without_evidence_refused_on_page(world, login):
    loan = world.loan()
    signal_raise(loan_id=loan.pk, code="W18", observed="refused", source="check")
    action = loan.actions.get(kind="contact")
    response = login("postloan.north").post(f"/monitoring/actions/{action.pk}/complete/",
                                            {"note": " "})
    assert response.status_code == 400
    assert "evidence is required" in response.content.decode()


def test_branch_view(world, login):
    world.loan(dpd=100)
    html = login("lead.north").get("/monitoring/branch/?by=vintage").content.decode()
    assert "NPL ratio 100.00%" in html and "above tolerance" in html
