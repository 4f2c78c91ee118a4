"""Issue #18: no page scrolls sideways on a 360 px phone — wide data tables (an application's
documents, the auditor's event search) read as one card per row, each value under its column's
name, and long file names wrap instead of widening the page."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.e2e.layout import assert_fits

LONG_NAME = "bank-statement-" + "x" * 60 + ".csv"


def _sign_in(page, site, username):
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("credence-demo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()


def test_wide_tables_become_cards_on_a_phone(demo_site, browser):
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.documents import samples, services
    from apps.documents.seed import seed_documents

    with translation.override("en"):
        world = World()
        seed_documents()
    application = world.draft()
    services.document_upload(
        application_id=application.pk, document_type_code="bank_statement",
        uploaded_file=SimpleUploadedFile(LONG_NAME, samples.statement_cn_csv(
            samples.transactions(seed=3)), content_type="text/csv"),
        actor=world.user("am.north"))
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        _sign_in(page, demo_site, "am.north")
        page.goto(f"{demo_site}/applications/{application.pk}/")
        page.locator("#documents-checklist table.table").wait_for()
        # State, not time: the script has labelled the cells once the table has its class.
        page.locator("#documents-checklist table.table.reflow").wait_for()
        assert_fits(page, 360)
        assert page.locator("table.reflow td[data-label]").count() > 0
        page.goto(f"{demo_site}/documents/applications/{application.pk}/upload/")
        page.locator("input[type=file]").first.wait_for()
        assert_fits(page, 360)
        context.clear_cookies()
        _sign_in(page, demo_site, "auditor.north")
        page.goto(f"{demo_site}/oversight/events/")
        page.locator("table.table.reflow").first.wait_for()
        assert_fits(page, 360)
    finally:
        context.close()
