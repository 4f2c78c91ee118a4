"""A post-loan officer opens the first inspection of a loan on a phone (390×844), fills it
section by section (answers autosaved through the inspection API by the investigation form's
script), concludes and submits; a team lead reviews it. Waits on state, never on time."""

import re

import pytest
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD
from tests.e2e.layout import assert_fits

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def first_inspection(demo_site):
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.monitoring.inspection_models import Inspection
    from apps.monitoring.inspection_services import inspection_schedule_generate
    from apps.monitoring.seed import seed_monitoring
    from apps.monitoring.tests.inspections.inspection_factories import make_loan

    with translation.override("en"):
        world = World()
        seed_monitoring()  # the reviewed conclusion proposes a class from policy floors
        loan = make_loan(world)
        inspection_schedule_generate(loan_id=loan.pk)
        return Inspection.objects.get(loan=loan, kind="m1")


def _login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def _saved(page, code):
    expect(page.locator(f"#item-{code} [data-role=status]")).to_have_text("Saved")


def _text(page, code, value):
    page.locator(f"#item-{code} textarea[data-role=value]").fill(value)
    _saved(page, code)


def _radio(page, code, value):
    page.locator(f"#item-{code} input[data-role=value][value='{value}']").check()
    _saved(page, code)


def _not_applicable(page, code, reason):
    page.locator(f"#item-{code} [data-role=na]").check()
    page.locator(f"#item-{code} [data-role=na-reason]").fill(reason)
    page.locator(f"#item-{code} [data-role=na-reason]").blur()
    _saved(page, code)


def test_officer_fills_and_submits_the_first_check_and_a_lead_reviews_it(
        demo_site, first_inspection, browser):
    officer = browser.new_context(viewport=PHONE)
    page = officer.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, demo_site, "postloan.north")
    page.goto(f"{demo_site}/monitoring/inspections/")
    assert_fits(page)
    page.locator(f"a[data-inspection='{first_inspection.pk}']").click()
    page.locator("[data-role=start]").click()
    expect(page.locator(".inv-status [data-state]")).to_have_attribute("data-state",
                                                                        "in_progress")
    assert_fits(page)

    _text(page, "PLACE", "Workshop at 12 Harbour Road")
    _text(page, "RECEIVED_BY", "Ms Li, finance manager")
    _radio(page, "COOPERATION", "cooperative")
    _radio(page, "PREMISES_CHANGED", "false")
    page.get_by_role("link", name=re.compile("Next section")).click()

    _text(page, "FUNDS_EXPLANATION", "Paid the steel supplier 480,000 on the value date; the "
                                     "goods are in the warehouse.")
    box = page.locator("#item-FUNDS_SOURCES input[value=payment_voucher]")
    # Toggled with the keyboard: a pointer click on this checkbox left it unchecked in
    # headless Chromium at this viewport (cause not found; a script click toggles it).
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    _saved(page, "FUNDS_SOURCES")
    _radio(page, "FUNDS_AS_AGREED", "true")
    _radio(page, "PAYEE_MATCHES", "true")
    _not_applicable(page, "PAYMENT_EVIDENCE", "Vouchers kept in the core imaging system")
    page.get_by_role("link", name=re.compile("Next section")).click()

    _not_applicable(page, "SITE_PHOTOS", "Photos kept in the core imaging system")
    page.get_by_role("link", name=re.compile("Finish")).last.click()
    expect(page.get_by_text("Nothing is missing")).to_be_visible()
    page.get_by_label("Normal (正常)").check()
    page.get_by_label("Why this classification").fill("Funds used as agreed; sales steady.")
    page.get_by_label("Contact the client").check()
    assert_fits(page)
    page.set_viewport_size({"width": 360, "height": 740})  # the narrowest phone we support
    assert_fits(page)
    page.locator("[data-role=submit]").click()
    expect(page.locator(".inv-status [data-state]")).to_have_attribute("data-state", "submitted")
    expect(page.locator("[data-role=proposed-class]")).to_have_text("Normal (正常)")
    assert errors == []

    lead = browser.new_context(viewport=PHONE)
    review = lead.new_page()
    _login(review, demo_site, "lead.north")
    review.goto(f"{demo_site}/monitoring/inspections/")
    review.locator(f"a[data-review='{first_inspection.pk}']").click()
    assert_fits(review)
    review.get_by_label("Review note").fill("Seen on the file.")
    review.locator("[data-role=review]").click()
    expect(review.locator("dl.facts [data-state]")).to_have_attribute("data-state", "reviewed")
    officer.close()
    lead.close()
