"""A covenant waiver on a phone (360 px), four-eyes: the post-loan officer proposes it (a
mistake comes back under its field, in a sentence), the team lead approves it on their phone,
and the covenant shows as waived with its check no longer owed. Waits on what the page shows,
never on time; nothing scrolls sideways."""

import datetime as dt
import re

from django.utils import timezone

from apps.monitoring.covenant_models import Covenant, CovenantCheck
from tests.e2e.layout import assert_fits


def _sign_in(browser, site, username):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("credence-demo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
    return context, page


def test_waiver_proposed_and_approved_on_phones(demo_site, browser):
    from django.utils import translation

    from apps.monitoring import covenant_services
    from apps.monitoring.tests.factories import World

    with translation.override("en"):
        world = World()
    loan = world.loan(value_date=timezone.localdate() - dt.timedelta(days=300))
    covenant = covenant_services.covenant_add(
        loan_id=loan.pk, actor=world.user("postloan.north"), kind="information",
        text="Send the monthly VAT return and the utility bills of the Harbour Road workshop "
             "within fifteen days of each month end")
    check = CovenantCheck.objects.get(covenant=covenant)
    today = timezone.localdate()
    until = check.due_date + dt.timedelta(days=20)
    statuses = []

    officer_context, page = _sign_in(browser, demo_site, "postloan.north")
    page.on("response", lambda r: statuses.append(r.status) if r.status >= 400 else None)
    try:
        page.goto(f"{demo_site}/monitoring/loans/{loan.pk}/")
        page.get_by_role("heading", name="Covenants and annual reviews").wait_for()
        page.get_by_role("link", name="Covenant details, changes and waivers").click()
        page.get_by_role("heading", name="Amend, waive or end this covenant").wait_for()
        assert_fits(page, 360)
        page.get_by_label("Waive it for a period").check()
        page.get_by_label("Takes effect on (that day included)").fill(today.isoformat())
        # A last day before the start day: refused by the server, shown under that field.
        page.get_by_label("For a waiver: last waived day (included)").fill(
            (today - dt.timedelta(days=1)).isoformat())
        page.get_by_label("Reason").fill("Workshop closed for the flood repairs")
        page.get_by_role("button", name="Propose the change").click()
        error = page.locator("#waived-until-error")
        error.wait_for()
        assert error.inner_text() == "The waiver must end on or after its start day."
        assert_fits(page, 360)
        page.get_by_label("For a waiver: last waived day (included)").fill(until.isoformat())
        page.get_by_role("button", name="Propose the change").click()
        page.get_by_text("Proposed, awaiting a second person").wait_for()
        assert page.get_by_role("button", name="Approve the change").count() == 0
        assert_fits(page, 360)
    finally:
        officer_context.close()

    lead_context, page = _sign_in(browser, demo_site, "lead.north")
    try:
        page.goto(f"{demo_site}/monitoring/covenants/{covenant.pk}/")
        page.get_by_role("button", name="Approve the change").wait_for()
        assert_fits(page, 360)
        page.get_by_label("Your note (required to reject)").fill("Agreed with the borrower")
        page.get_by_role("button", name="Approve the change").click()
        page.locator("#covenant-state").get_by_text("Waived for a period").wait_for()
        page.get_by_text("Not tested: the covenant was waived or ended").wait_for()
        assert_fits(page, 360)
    finally:
        lead_context.close()

    covenant = Covenant.objects.get(pk=covenant.pk)
    check.refresh_from_db()
    assert covenant.state == "waived" and covenant.waived_until == until
    assert check.state == "cancelled"
    assert statuses == [400]  # only the refused proposal
