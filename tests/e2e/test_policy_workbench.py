"""Issue 17 in the browser: a policy officer adds an entry condition to a new draft, reads the
difference and the impact preview, a second officer publishes it, and a new application is
checked against the new version. Waits on page state, never on time."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def policy_site(demo_site):
    from django.contrib.auth.models import Group

    from apps.accounts.models import User
    from apps.accounts.roles import Role, sync_role_groups
    from apps.org.models import Branch
    from apps.products.seed import seed_products

    seed_products(effective_from=timezone.localdate() - dt.timedelta(days=30))
    sync_role_groups()
    group = Group.objects.get(name=Role.POLICY_OFFICER)
    for name in ("policy.drafter", "policy.checker"):
        user = User.objects.create_user(username=name, password=DEMO_PASSWORD,
                                        branch=Branch.objects.get(code="north"))
        user.groups.add(group)
    return demo_site


def _sign_in(page, site, username):
    page.context.clear_cookies()
    page.goto(f"{site}/accounts/login/?next=/products/workbench/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Policy workbench: products")).to_be_visible()


def test_draft_preview_and_four_eyes_publish(policy_site, page, page_errors):
    from apps.parties.tests.factories import EnterpriseFactory
    from apps.products.models import ProductVersion
    from apps.products.selectors import eligibility_for_enterprise

    _sign_in(page, policy_site, "policy.drafter")
    product = page.locator('[data-product="tax-credit-loan"]')
    product.get_by_role("button", name="Start a new draft").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "draft")

    form = page.locator("form.condition-add")
    form.get_by_label("code").fill("staff")
    form.get_by_label("fact").select_option("employees")
    form.get_by_label("operator").select_option("gte")
    form.get_by_label("value").fill("10")
    form.get_by_label("reason (English)").fill("At least 10 employees")
    form.get_by_label("reason (Chinese)").fill("从业人员不少于10人")
    form.get_by_role("button", name="Add").click()

    expect(page.locator('[data-condition="staff"]')).to_be_visible()
    expect(page.locator("table.diff")).to_contain_text("New entry condition")
    expect(page.get_by_role("heading", name="Impact if published today")).to_be_visible()
    expect(page.locator('[data-population="applicants"]')).to_contain_text("newly excluded")
    # The drafter is told, and offered no publish button.
    expect(page.get_by_text("a second policy officer publishes it")).to_be_visible()
    expect(page.get_by_role("button", name="Publish this version")).to_have_count(0)
    draft_url = page.url

    _sign_in(page, policy_site, "policy.checker")
    page.goto(draft_url)
    page.get_by_role("button", name="Publish this version").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "published")
    assert page_errors == []

    version = ProductVersion.objects.get(product__code="tax-credit-loan", state="published")
    assert version.version == 2
    small = EnterpriseFactory(employees=3, tax_credit_rating="A",
                              registration_date=dt.date(2019, 3, 1))
    results = {r.version.product.code: r for r in eligibility_for_enterprise(
        enterprise=small, on=timezone.localdate())}
    assert "staff" in [f.code for f in results["tax-credit-loan"].failures]
