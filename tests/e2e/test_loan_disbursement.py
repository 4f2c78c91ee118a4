"""An operations officer contracts an approved file and requests two tranches; a second
officer approves both; the contract and loan pages show two loans and the schedule, and no
page scrolls sideways on a 360 px phone."""

import re

import pytest
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD
from tests.e2e.layout import assert_fits

pytestmark = pytest.mark.e2e


@pytest.fixture
def approved_file(demo_site):
    from django.utils import translation

    from apps.loans.tests.factories import LoanWorld

    with translation.override("en"):
        return LoanWorld().approved()


def _login(page, site, username):
    page.context.clear_cookies()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def test_two_tranches_four_eyes_and_the_loan_page(demo_site, approved_file, page, page_errors):
    page.set_viewport_size({"width": 360, "height": 780})
    _login(page, demo_site, "ops.north")
    page.goto(f"{demo_site}/applications/{approved_file.pk}/")
    section = page.locator("#contract-and-disbursement")
    expect(section.get_by_role("heading", name="Contract and disbursement")).to_be_visible()
    section.get_by_label("Signing place").fill("North branch, room 2")
    section.get_by_role("button", name="Sign the contract").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Contract HT"))).to_be_visible()
    assert_fits(page)

    for amount in ("200000", "100000"):
        page.get_by_label("Amount (yuan)").fill(amount)
        page.get_by_label("Borrower's account").fill("6222020200112233")
        page.get_by_role("radio", name=re.compile("Independent payment")).check()
        page.get_by_role("button", name="Request the drawdown").click()
        expect(page.get_by_text("Drawdown requested")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw this request")).to_have_count(2)
    contract_url = page.url

    _login(page, demo_site, "ops2.north")
    page.goto(contract_url)
    for _ in range(2):
        page.get_by_role("button", name="Approve and book the loan").first.click()
        expect(page.get_by_text("Drawdown approved: loan booked.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve and book the loan")).to_have_count(0)
    loans = page.locator("#tranches").get_by_role("link", name=re.compile(r"^JJ"))
    expect(loans).to_have_count(2)
    assert_fits(page)

    loans.first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Loan JJ"))).to_be_visible()
    expect(page.get_by_test_id("loan-state")).to_have_text("Active")
    expect(page.get_by_test_id("schedule").locator("li")).to_have_count(
        approved_file.term_months)
    expect(page.get_by_role("heading", name="Repayments")).to_be_visible()
    assert_fits(page)

    page.goto(f"{demo_site}/loans/")
    expect(page.get_by_role("heading", name="Loans")).to_be_visible()
    expect(page.locator(".loan-cards > li")).to_have_count(2)
    assert_fits(page)
    approved_file.refresh_from_db()
    assert approved_file.state == "disbursed"
    assert page_errors == [], page_errors
