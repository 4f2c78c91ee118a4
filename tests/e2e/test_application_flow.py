import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD
from tests.e2e.layout import assert_fits

pytestmark = pytest.mark.e2e

# Set to a folder to keep screenshots of the phone layout (they are not committed).
SCREENSHOT_DIR = os.environ.get("CREDENCE_SCREENSHOT_DIR")


@pytest.fixture
def customer(demo_site):
    """An enterprise of the north branch that qualifies for the tax-record credit loan."""
    from django.utils import translation

    from apps.applications.tests.factories import World

    with translation.override("en"):
        return World().enterprise(name="Hengxin Hardware Co., Ltd.")


def _shot(page, name):
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / name), full_page=True)


def test_account_manager_opens_a_customer_starts_and_submits_an_application(
        demo_site, customer, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{demo_site}/accounts/login/")
        page.get_by_label("Username").fill("am.north")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()

        page.get_by_role("button", name="Menu").click()
        page.get_by_role("link", name="Customers").click()
        page.get_by_label("Name or unified social credit code").fill("Hengxin")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Hengxin Hardware Co., Ltd.").click()

        expect(page.get_by_role("heading", name="Hengxin Hardware Co., Ltd.")).to_be_visible()
        expect(page.get_by_role("heading", name="Product eligibility")).to_be_visible()
        assert_fits(page, 360)
        _shot(page, "enterprise-360.png")

        page.get_by_role("link", name="New application").click()
        page.get_by_label(re.compile("Tax-record credit loan")).check()
        assert_fits(page, 360)
        _shot(page, "wizard-product-360.png")
        page.get_by_role("button", name="Next: terms").click()

        # Above the product's maximum: the service's message appears next to the field.
        page.get_by_label("Amount requested").fill("99000000")
        page.get_by_label("Term (months)").fill("12")
        page.get_by_label("Purpose of the loan").fill("Buy raw materials for spring orders")
        page.get_by_label("Repayment method").select_option("equal_instalment")
        page.get_by_label("Collateral").select_option("none")
        page.get_by_role("button", name="Create draft").click()
        expect(page.locator("#id_amount_requested_error")).to_contain_text("This product lends")
        expect(page.get_by_label("Amount requested")).to_have_attribute("aria-invalid", "true")
        assert_fits(page, 360)
        _shot(page, "wizard-terms-error-360.png")

        page.get_by_label("Amount requested").fill("500000")
        page.get_by_role("button", name="Create draft").click()
        expect(page.get_by_role("heading", name=re.compile("Application CR"))).to_be_visible()
        expect(page.locator(".state-line .state")).to_have_text("Draft")

        page.get_by_role("button", name="Submit", exact=True).click()
        # htmx swaps the live part of the page in place: new state, no Submit button any more.
        expect(page.locator(".state-line .state")).to_have_text("Submitted")
        expect(page.locator(".timeline")).to_contain_text("Application submitted")
        expect(page.locator(".timeline")).to_contain_text("Draft → Submitted")
        expect(page.get_by_role("button", name="Submit", exact=True)).to_have_count(0)
        assert_fits(page, 360)
        _shot(page, "application-submitted-360.png")
        # The wizard's deliberate 400 is the only error response.
        assert [e for e in errors if not e.startswith("400 ")] == []
    finally:
        context.close()
