"""Issue 17 in the browser: a policy officer adds an entry condition to a new draft, edits it,
reads the difference and the impact preview, a second officer publishes it, and a new
application is evaluated against the new version (refused on its condition; the old version
no longer takes applications). Waits on page state, never on time."""

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
    form.get_by_label("value").fill("5")
    form.get_by_label("reason (English)").fill("At least 10 employees")
    form.get_by_label("reason (Chinese)").fill("从业人员不少于10人")
    form.get_by_role("button", name="Add").click()

    expect(page.locator('[data-condition="staff"]')).to_be_visible()
    # The officer changes their mind: 10 employees, not 5 (an edit of the draft's condition).
    page.locator('[data-condition="staff"]').get_by_role("link", name="Change").click()
    edit = page.locator("form.condition-edit")
    edit.get_by_label("value").fill("10")
    edit.get_by_role("button", name="Save the condition").click()
    expect(page.locator('[data-condition="staff"]')).to_contain_text("10")
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
    assert str(version.conditions.get(code="staff").value) == "10"
    small = EnterpriseFactory(employees=3, tax_credit_rating="A",
                              registration_date=dt.date(2019, 3, 1))
    results = {r.version.product.code: r for r in eligibility_for_enterprise(
        enterprise=small, on=timezone.localdate())}
    assert "staff" in [f.code for f in results["tax-credit-loan"].failures]

    # A new application of the north branch: only version 2 takes it, and its submission is
    # evaluated against version 2's conditions.
    from django.core.exceptions import ValidationError

    from apps.accounts.models import User
    from apps.applications import services as applications
    from apps.applications.tests.factories import TERMS
    from apps.core.exceptions import DomainError
    from apps.org.models import Branch

    manager = User.objects.get(username="am.north")
    firm = EnterpriseFactory(employees=3, tax_credit_rating="A", size_class="micro",
                             registration_date=dt.date(2019, 3, 1), annual_revenue=3_000_000,
                             industry="C", branch=Branch.objects.get(code="north"))
    old = ProductVersion.objects.get(product__code="tax-credit-loan", version=1)
    with pytest.raises(ValidationError):
        applications.application_create(enterprise=firm, product_version=old, actor=manager,
                                        **TERMS)
    application = applications.application_create(enterprise=firm, product_version=version,
                                                   actor=manager, **TERMS)
    with pytest.raises(DomainError) as refused:
        applications.application_submit(application_id=application.pk, actor=manager)
    assert any(reason.startswith("staff:") for reason in refused.value.fields["reasons"])
