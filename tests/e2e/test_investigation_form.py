"""An account manager fills a section of the investigation form on a phone-sized screen,
reloads midway, and finds every answer kept; the autosaves really reached the server, an
answer typed offline is sent when the connection returns, and a bad value is refused next to
its field."""

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

# Set to a folder to keep screenshots of the phone layout (they are not committed).
SCREENSHOT_DIR = os.environ.get("CREDENCE_SCREENSHOT_DIR")
SITE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 8}


class _OneRequestAtATime:
    """Mixed into the live server on in-memory SQLite only: there every server thread shares
    the test's one connection, and two overlapping requests (a reload while an autosave is in
    flight: exactly what this test does) fail with "database table is locked". PostgreSQL
    runs them concurrently, as production does."""

    _lock = threading.Lock()

    def set_app(self, application):
        def one_at_a_time(environ, start_response):
            with self._lock:
                result = application(environ, start_response)
                try:
                    return list(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()  # request_finished: what the server would do
        super().set_app(one_at_a_time)


@pytest.fixture(scope="module")
def live_server():
    """pytest-django's live server, serialised on in-memory SQLite (see above)."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    if server.thread.connections_override:
        server.thread.server_class = type("SerialLiveServer",
                                          (_OneRequestAtATime, ThreadedWSGIServer), {})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def investigation(demo_site):
    """A north application in investigation, assigned to am.north and assistant.north, started."""
    from django.utils import translation

    from apps.applications import services
    from apps.applications.states import ApplicationState
    from apps.applications.tests.factories import World
    from apps.investigations import workflow
    from apps.investigations.seed import seed_builtin_templates

    with translation.override("en"):
        world = World()
        seed_builtin_templates()
        application = world.in_state(ApplicationState.SUBMITTED)
        services.application_start_investigation(application_id=application.pk,
                                                 actor=world.user("am.north"))
        investigation = workflow.investigation_assign(
            application_id=application.pk, lead_officer=world.user("am.north"),
            assisting_officer=world.user("assistant.north"), actor=world.user("lead.north"),
            template_code="three-products-three-tables")
        return workflow.investigation_start(investigation_id=investigation.pk,
                                            actor=world.user("am.north"))


def _stored(context, base, investigation) -> dict:
    """The answers as the server holds them, read through its API (not this test's own
    database connection, which the live server may be using at the same moment)."""
    body = context.request.get(f"{base}/api/v1/investigations/{investigation.pk}/").json()
    return {item["code"]: item["answer"]["value"] for section in body["sections"]
            for item in section["items"] if item["answer"]}


def _queue_js(investigation) -> str:
    return (f"Object.keys(JSON.parse(localStorage.getItem("
            f"'credence.investigation.{investigation.pk}.queue') || '{{}}'))")


def _queued(page, investigation) -> list[str]:
    """The items typed on the phone and not yet confirmed by the server."""
    return page.evaluate(_queue_js(investigation))


def _wait_until_sent(page, investigation):
    """Wait on state, not time: the page drops an item from its queue only when the server
    answered its save, so an empty queue means every answer reached the server. The timeout
    is a ceiling for a loaded machine, not a pause."""
    page.wait_for_function(f"{_queue_js(investigation)}.length === 0", timeout=60_000)


def _wait_until_queued(page, investigation, code):
    page.wait_for_function(f"{_queue_js(investigation)}.includes({code!r})", timeout=60_000)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 90, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _shot(page, name):
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / name), full_page=True)


def _item(page, code):
    return page.locator(f"#item-{code}")


def _login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def test_account_manager_fills_a_section_reloads_and_finds_every_answer(
        demo_site, investigation, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740},
                                  geolocation=SITE, permissions=["geolocation"])
    page = context.new_page()

    def stored():
        return _stored(context, demo_site, investigation)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _login(page, demo_site, "am.north")
        page.goto(f"{demo_site}/investigations/{investigation.pk}/?section=B")
        expect(page.get_by_role("heading", name=re.compile("^B ·"))).to_be_visible()

        # First half of the section.
        _item(page, "B1_OVERDUE").get_by_label("No").check()
        _item(page, "B2_OVERDUE").get_by_label("No").check()
        page.locator("#f-B2_M1_COUNT").fill("1")
        page.locator("#f-B3_INQUIRIES").fill("4")
        reputation = ("Neighbours at the market (Mr Li, hardware; Ms Wang, grocer) say the owner "
                      "has traded here for nine years and pays suppliers on time.")
        # The reputation's saves are held back (as a dropped connection would): whatever
        # the machine's load, it is still only on the phone when the page reloads. Before,
        # the test read the queue "before the debounce fired", which a slow machine missed.
        reputation_saves = f"**/api/v1/investigations/{investigation.pk}/answers/B10_REPUTATION/"
        page.route(reputation_saves, lambda route: route.abort("internetdisconnected"))
        page.locator("#f-B10_REPUTATION").fill(reputation[:20])
        expect(_item(page, "B10_REPUTATION").locator("[data-count]")).to_have_text("20")
        page.locator("#f-B10_REPUTATION").fill(reputation)
        _wait_until_queued(page, investigation, "B10_REPUTATION")
        assert "B10_REPUTATION" not in stored()

        # Reload with a save still on the phone: nothing is lost. The saves stay held back
        # until the reloaded page shows the answer: lifted before the reload, a retry of the
        # first, 20-character value could reach the server behind the page's back.
        page.reload()
        expect(_item(page, "B1_OVERDUE").get_by_label("No")).to_be_checked()
        expect(_item(page, "B2_OVERDUE").get_by_label("No")).to_be_checked()
        expect(page.locator("#f-B2_M1_COUNT")).to_have_value("1")
        expect(page.locator("#f-B3_INQUIRIES")).to_have_value("4")
        expect(page.locator("#f-B10_REPUTATION")).to_have_value(reputation)
        page.unroute(reputation_saves)
        _wait_until_sent(page, investigation)
        assert {"B1_OVERDUE", "B2_OVERDUE", "B2_M1_COUNT", "B3_INQUIRIES",
                "B10_REPUTATION"} <= set(stored())

        # A bad value is refused next to its field, then corrected.
        page.locator("#f-B3_APPROVALS").fill("two")
        page.locator("#f-B3_APPROVALS").blur()
        expect(page.locator("#err-B3_APPROVALS")).to_contain_text("Enter a number")
        page.locator("#f-B3_APPROVALS").fill("2")
        page.locator("#f-B3_APPROVALS").blur()
        expect(page.locator("#err-B3_APPROVALS")).to_have_text("")

        # Typed while the connection is down: kept on the phone, sent when it returns.
        context.set_offline(True)
        page.locator("#f-B5_CARD_UTILISATION").fill("35")
        page.locator("#f-B5_CARD_UTILISATION").blur()
        expect(page.locator("#save-banner")).to_contain_text("Offline")
        _wait_until_queued(page, investigation, "B5_CARD_UTILISATION")
        assert "B5_CARD_UTILISATION" not in stored()
        context.set_offline(False)
        _wait_until_sent(page, investigation)
        assert "B5_CARD_UTILISATION" in stored()
        expect(page.locator("#save-banner")).to_be_hidden()

        # The rest of the section.
        page.locator("#f-B6_ONLINE_LOANS").fill("0")
        _item(page, "B7_DISHONEST").get_by_label("No").check()
        _item(page, "B9_TAX_GRADE").get_by_label("A", exact=True).check()
        spouse = _item(page, "B11_SPOUSE_CONSENT")
        spouse.get_by_role("checkbox", name="Not applicable").check()
        spouse.get_by_label("Why is it not applicable?").fill("The owner is not married.")
        spouse.get_by_label("Why is it not applicable?").blur()
        _wait_until_sent(page, investigation)
        assert len(stored()) == 11
        expect(page.locator("[data-progress='B']")).to_have_text("11/11")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        _shot(page, "investigation-section-b-360.png")
        page.reload()
        expect(page.locator("[data-progress='B']")).to_have_text("11/11")
        expect(page.locator("#f-B5_CARD_UTILISATION")).to_have_value("35")
        expect(page.locator("#f-B3_APPROVALS")).to_have_value("2")
        expect(spouse.get_by_role("checkbox", name="Not applicable")).to_be_checked()
        expect(spouse.get_by_label("Why is it not applicable?")).to_have_value(
            "The owner is not married.")
        final = stored()
        assert (final["B1_OVERDUE"], final["B3_INQUIRIES"], final["B3_APPROVALS"],
                final["B10_REPUTATION"], final["B11_SPOUSE_CONSENT"]) == (
            False, "4", "2", reputation, None)
        assert _queued(page, investigation) == []
        assert errors == []
    finally:
        context.close()


def test_a_site_photo_is_uploaded_and_a_stale_save_shows_the_other_officers_answer(
        demo_site, investigation, browser):
    from apps.accounts.models import User
    from apps.documents.seed import seed_document_types
    from apps.investigations import workflow

    seed_document_types()

    context = browser.new_context(viewport={"width": 360, "height": 740},
                                  geolocation=SITE, permissions=["geolocation"])
    page = context.new_page()
    try:
        _login(page, demo_site, "am.north")

        # A site photo from the phone's camera goes to the documents API with the phone's
        # position, and the answer is saved with the new document's id.
        page.goto(f"{demo_site}/investigations/{investigation.pk}/?section=C")
        photos = _item(page, "C1_SITE_PHOTOS")
        expect(photos.locator("input[type=file]")).to_have_attribute("capture", "environment")
        photos.locator("input[type=file]").set_input_files(
            {"name": "gate.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()})
        expect(photos.locator("[data-role=status]")).to_have_text("Saved", timeout=15000)
        document_id = photos.locator("[data-role=files] li").first.get_attribute("data-id")
        _shot(page, "investigation-section-c-360.png")
        expect(photos.locator(f"a[href='/documents/{document_id}/download/']")).to_be_visible()
        assert _stored(context, demo_site, investigation)["C1_SITE_PHOTOS"] == [document_id]
        document = context.request.get(f"{demo_site}/api/v1/documents/{document_id}/").json()
        assert (document["document_type"], document["item_code"]) == ("site_photo",
                                                                      "C1_SITE_PHOTOS")

        page.goto(f"{demo_site}/investigations/{investigation.pk}/?section=D")
        field = page.locator("#f-D2_ANNUAL_SALES")
        field.fill("1200000")
        field.blur()
        expect(_item(page, "D2_ANNUAL_SALES").locator("[data-role=status]")).to_have_text("Saved")

        # Meanwhile the assisting officer, on their own phone, saves another figure twice.
        assistant = User.objects.get(username="assistant.north")
        for version, value in ((1, "1500000"), (2, "1550000")):
            workflow.answer_save(investigation_id=investigation.pk,
                                 item_code="D2_ANNUAL_SALES", value=value,
                                 expected_version=version, actor=assistant)

        field.fill("1300000")
        field.blur()
        conflict = _item(page, "D2_ANNUAL_SALES").locator("[data-role=conflict]")
        expect(conflict).to_contain_text("The other officer changed this answer")
        expect(conflict.locator("[data-role=theirs]")).to_have_text("1550000")
        _shot(page, "investigation-conflict-360.png")
        conflict.get_by_role("button", name="Take theirs").click()
        expect(field).to_have_value("1550000")
        expect(conflict).to_be_hidden()

        # Theirs is now the version mine builds on: this save goes straight through.
        field.fill("1600000")
        field.blur()
        expect(_item(page, "D2_ANNUAL_SALES").locator("[data-role=status]")).to_have_text("Saved")
        answer = context.request.get(
            f"{demo_site}/api/v1/investigations/{investigation.pk}/").json()
        d2 = next(i for s in answer["sections"] for i in s["items"]
                  if i["code"] == "D2_ANNUAL_SALES")
        assert (d2["answer"]["value"], d2["answer"]["version"]) == ("1600000", 4)

        # And "keep mine": a stale save, then knowingly overwriting the other officer's value.
        workflow.answer_save(investigation_id=investigation.pk, item_code="D2_ANNUAL_SALES",
                             value="1700000", expected_version=4, actor=assistant)
        field.fill("1650000")
        field.blur()
        expect(conflict.locator("[data-role=theirs]")).to_have_text("1700000")
        conflict.get_by_role("button", name="Keep mine").click()
        expect(_item(page, "D2_ANNUAL_SALES").locator("[data-role=status]")).to_have_text("Saved")
        expect(field).to_have_value("1650000")
    finally:
        context.close()
