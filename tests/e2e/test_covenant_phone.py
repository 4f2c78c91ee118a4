"""The post-loan officer submits a covenant check on a phone (360 px): from the work list to
the evidence form and back to the loan page's covenants section; nothing scrolls sideways."""

import re

from apps.monitoring.covenant_models import CovenantCheck
from tests.e2e.layout import assert_fits


def test_officer_submits_a_covenant_check_on_a_phone(demo_site, browser):
    from django.utils import translation

    from apps.monitoring import covenant_services
    from apps.monitoring.tests.factories import World

    with translation.override("en"):
        world = World()
    loan = world.loan()
    covenant = covenant_services.covenant_add(
        loan_id=loan.pk, actor=world.user("postloan.north"), kind="use_of_funds",
        text="Pay the steel supplier named in the contract, Harbour Metals Co. Ltd., within "
             "ten days of each drawdown, and keep the remittance vouchers for inspection")
    check = CovenantCheck.objects.get(covenant=covenant)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    try:
        page.goto(f"{demo_site}/accounts/login/")
        page.get_by_label("Username").fill("postloan.north")
        page.get_by_label("Password").fill("credence-demo")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
        page.goto(f"{demo_site}/monitoring/")
        page.get_by_role("heading", name="Covenant checks and annual reviews").wait_for()
        assert_fits(page, 360)
        page.locator(f'[data-covenant-check="{check.pk}"]').click()
        page.get_by_role("heading", name="Covenant check: Use of funds as agreed").wait_for()
        assert_fits(page, 360)
        page.get_by_label("Complied", exact=True).check()
        page.get_by_role("button", name="Submit for a second person").click()
        page.locator("#evidence-note").wait_for()  # required field: not sent empty
        page.get_by_label("What you checked and what you found").fill(
            "Remittance voucher of 480,000 to Harbour Metals on the value date")
        page.get_by_role("button", name="Submit for a second person").click()
        page.get_by_text("Submitted, awaiting a second person").first.wait_for()
        assert_fits(page, 360)
        page.get_by_role("link", name=f"Loan {loan.loan_number}").click()
        page.get_by_role("heading", name="Covenants and annual reviews").wait_for()
        assert_fits(page, 360)
    finally:
        context.close()
    check.refresh_from_db()
    assert check.state == "submitted" and check.result == "complied"
    assert check.note.startswith("Remittance voucher")
    assert errors == []
