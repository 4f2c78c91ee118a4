"""The post-loan officer on a phone (360 px): the work list, a loan's monitoring page, closing
a signal with a note and completing an action with evidence; nothing scrolls sideways."""

import re

from apps.monitoring.models import Action, Signal
from tests.e2e.layout import assert_fits


def test_post_loan_officer_works_a_signal_on_a_phone(demo_site, browser):
    from django.utils import translation

    from apps.monitoring.services.signals import signal_raise
    from apps.monitoring.tests.factories import World

    with translation.override("en"):
        world = World()
    loan = world.loan(dpd=40)
    signal = signal_raise(loan_id=loan.pk, code="W18",
                          observed="The owner refused the site visit on Tuesday",
                          source="inspection")
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
        page.get_by_role("heading", name="Post-loan work list").wait_for()
        assert_fits(page, 360)
        page.get_by_role("link", name="Borrower obstructs inspection").click()
        page.get_by_role("heading", name=f"Loan {loan.loan_number}").wait_for()
        assert_fits(page, 360)
        page.locator(f"#signal-note-{signal.pk}").fill("Second visit agreed with the owner")
        page.locator(f"#signal-{signal.pk}").get_by_role(
            "button", name="Close with this note").click()
        page.locator(f"#signal-{signal.pk}").get_by_text("Closed").wait_for()
        contact = Action.objects.get(loan=loan, kind="contact")
        page.locator(f"#action-{contact.pk}").get_by_role("button", name="Mark done").click()
        page.locator(f"#action-note-{contact.pk}").wait_for()  # required field: not sent empty
        page.locator(f"#action-note-{contact.pk}").fill("Called the owner, visit on Friday")
        page.locator(f"#action-{contact.pk}").get_by_role("button", name="Mark done").click()
        page.locator(f"#action-{contact.pk}").get_by_text("Done").wait_for()
        assert_fits(page, 360)
    finally:
        context.close()
    assert Signal.objects.get(pk=signal.pk).state == "closed"
    assert Action.objects.get(pk=contact.pk).evidence_note.startswith("Called")
    assert errors == []
