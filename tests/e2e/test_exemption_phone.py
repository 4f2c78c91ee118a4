"""Exemption pages on a 360 px phone: no sideways scrolling, in English and Chinese."""

import os
from pathlib import Path

import pytest

from apps.demo.seed import DEMO_PASSWORD
from tests.e2e.layout import assert_fits

pytestmark = pytest.mark.e2e

SCREENSHOT_DIR = os.environ.get("CREDENCE_SCREENSHOT_DIR")


@pytest.fixture
def exemption_site(demo_site):
    from apps.applications.tests.factories import World
    from apps.oversight import exemption_services as svc
    from apps.oversight.tests.exemption_factories import committee_member, make_loan

    world = World()
    chair = committee_member(world)
    loan = make_loan(world, dpd=120)
    case = svc.exemption_case_open(loan_id=loan.pk, incident="non_performing", actor=chair,
                                   note="Borrower stopped paying after a supplier failed")
    svc.exemption_case_start_review(case_id=case.pk, actor=chair)
    return demo_site, case


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_exemption_pages_fit_a_phone(exemption_site, page, page_errors, language):
    site, case = exemption_site
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])
    page.goto(f"{site}/accounts/login/?next=/oversight/exemptions/")
    page.locator("input[name=username]").fill("exempt.hq")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{site}/oversight/exemptions/")
    for path in ("/oversight/exemptions/", f"/oversight/exemptions/{case.pk}/",
                 "/oversight/exemptions/dashboard/"):
        page.goto(f"{site}{path}")
        assert page.locator("h1").is_visible()
        assert_fits(page, context=(language, path))
        if SCREENSHOT_DIR:
            name = path.strip("/").replace("/", "-") or "root"
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}-{language}.png"),
                            full_page=True)
    page.goto(f"{site}/oversight/exemptions/{case.pk}/")
    assert page.locator("select[name^=tier_]").count() == case.people.count()
    assert page_errors == []
