"""An approver logs in, opens the inbox, opens the dossier and signs off with the password."""

import re

import pytest
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def waiting_file(demo_site):
    """A file in approval whose route waits for a branch approver (level 1)."""
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.approvals.tests.factories import in_approval

    with translation.override("en"):
        application, _route = in_approval(World())
    return application


def test_approver_signs_off_from_the_inbox(demo_site, waiting_file, page, page_errors):
    page.goto(f"{demo_site}/accounts/login/")
    page.get_by_label("Username").fill("approver.north")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()

    page.get_by_role("link", name=re.compile("Waiting for me")).first.click()
    expect(page.get_by_role("heading", name="Waiting for me")).to_be_visible()
    page.get_by_role("link", name=waiting_file.reference).click()
    expect(page.get_by_role("heading", name=f"Dossier {waiting_file.reference}")).to_be_visible()

    page.get_by_role("radio", name="Approve").check()
    page.get_by_label("Reasons").fill("Cash flow covers repayments; local reputation sound.")
    page.get_by_label("Your password (to sign)").fill("not-my-password")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("The password is not correct.")).to_be_visible()
    # Where the eye is (issue #18): the refusal is brought into view on a phone-sized window too,
    # not left below the dossier.
    expect(page.get_by_text("The password is not correct.")).to_be_in_viewport()

    page.get_by_role("radio", name="Approve").check()
    page.get_by_label("Reasons").fill("Cash flow covers repayments; local reputation sound.")
    page.get_by_label("Your password (to sign)").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Signed.")).to_be_visible()
    expect(page.get_by_text(re.compile("signed “Approve” at level 1"))).to_be_visible()

    waiting_file.refresh_from_db()
    assert waiting_file.state == "approved"
    # The wrong password answered 403 on purpose; nothing else failed to load.
    assert [e for e in page_errors if "403" not in e] == [], page_errors
