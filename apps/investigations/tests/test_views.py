"""Investigation pages: the application block and assignment, the form's screens, check-in and
submission from the page, the reviewer's page with findings, accept and return per item."""

import pytest
from django.contrib.messages import get_messages
from django.utils.html import escape

from apps.investigations import workflow
from apps.investigations.models import ItemComment
from apps.investigations.states import InvestigationState
from apps.investigations.tests.api import conftest as api_fixtures
from apps.investigations.tests.api.conftest import fill_required

pytestmark = pytest.mark.django_db

# The API tests' fixtures: an application in investigation, then assigned, then started.
investigating, assigned, started = (api_fixtures.investigating, api_fixtures.assigned,
                                    api_fixtures.started)


def _login(client, world, username):
    client.force_login(world.user(username))
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _submitted(world, api_as, started):
    fill_required(api_as("am.north"), started.pk)
    for name in ("am.north", "assistant.north"):
        workflow.site_check_in(investigation_id=started.pk, officer=world.user(name),
                               lat="31.2304", lng="121.4737")
    return workflow.investigation_submit(investigation_id=started.pk,
                                         actor=world.user("am.north"))


def test_team_lead_assigns_from_the_application_page(client, world, investigating):
    _login(client, world, "lead.north")
    page = client.get(f"/applications/{investigating.pk}/")
    html = page.content.decode()
    assert "Pre-lending investigation" in html and "Assign the investigation" in html
    assert world.user("assistant.north").display_name in html  # offered as an officer
    am, assistant = world.user("am.north"), world.user("assistant.north")
    same = client.post(f"/investigations/application/{investigating.pk}/assign/",
                       {"lead_officer": am.pk, "assisting_officer": am.pk})
    assert any("two different people" in m for m in _messages(same))
    done = client.post(f"/investigations/application/{investigating.pk}/assign/",
                       {"lead_officer": am.pk, "assisting_officer": assistant.pk})
    assert done.status_code == 302 and "Investigation assigned." in _messages(done)
    after = client.get(f"/applications/{investigating.pk}/").content.decode()
    assert "Assign the investigation" not in after
    assert assistant.display_name in after and "Answers and findings" in after


def test_reviewer_cannot_assign_and_other_branches_get_404(client, world, investigating):
    am, assistant = world.user("am.north"), world.user("assistant.north")
    _login(client, world, "reviewer.north")
    assert "Assign the investigation" not in client.get(
        f"/applications/{investigating.pk}/").content.decode()
    refused = client.post(f"/investigations/application/{investigating.pk}/assign/",
                          {"lead_officer": am.pk, "assisting_officer": assistant.pk})
    assert refused.status_code == 403
    _login(client, world, "lead.south")
    assert client.post(f"/investigations/application/{investigating.pk}/assign/",
                       {"lead_officer": am.pk,
                        "assisting_officer": assistant.pk}).status_code == 404


def test_officer_starts_then_sees_one_section_per_screen(client, world, assigned):
    _login(client, world, "assistant.north")
    page = client.get(f"/investigations/{assigned.pk}/").content.decode()
    assert "Start the investigation" in page
    start = client.post(f"/investigations/{assigned.pk}/start/")
    assert start.status_code == 302
    html = client.get(f"/investigations/{assigned.pk}/?section=B").content.decode()
    assert 'data-editable="1"' in html and 'id="item-B1_OVERDUE"' in html
    assert 'id="item-A4_AMOUNT"' not in html  # another section's screen
    assert 'aria-current="step"' in html and "0/11" in html
    assert 'href="?section=C"' in html and 'rel="prev"' in html
    photo = client.get(f"/investigations/{assigned.pk}/?section=C").content.decode()
    assert 'accept="image/*" capture="environment"' in photo
    table = client.get(f"/investigations/{assigned.pk}/?section=D").content.decode()
    assert 'data-role="table"' in table and 'data-derived="D7_LEVERAGE"' in table
    assert client.get(f"/investigations/{assigned.pk}/?section=ZZ").status_code == 404


def test_people_outside_the_file_cannot_open_the_form(client, world, started):
    _login(client, world, "am.south")
    assert client.get(f"/investigations/{started.pk}/").status_code == 404
    _login(client, world, "reviewer.north")
    page = client.get(f"/investigations/{started.pk}/?section=B").content.decode()
    assert 'data-editable="0"' in page


def test_finish_screen_checks_in_and_submit_shows_what_is_missing(client, world, started):
    _login(client, world, "am.north")
    finish = client.get(f"/investigations/{started.pk}/?section=finish").content.decode()
    assert "Submit for review" in finish
    # Issue #18: one compact summary grouped by section, each entry linking to its question
    # by its label — not forty boxes named by item code.
    assert 'href="?section=B#item-B1_OVERDUE"' in finish
    b1 = started.template.items.get(code="B1_OVERDUE")
    assert f">{b1.label_en}</a>" in finish and "not answered." in finish
    assert finish.count('class="missing-group"') >= 2 and "Site visit" in finish
    refused = client.post(f"/investigations/{started.pk}/submit/")
    assert refused["Location"].endswith("?section=finish#missing-list")
    shown = _messages(refused)
    assert len(shown) == 1, shown
    assert shown[0].startswith("The investigation is not complete. ")
    assert "things are missing" in shown[0]
    no_position = client.post(f"/investigations/{started.pk}/check-in/", {})
    assert any("position could not be read" in m for m in _messages(no_position))
    checked = client.post(f"/investigations/{started.pk}/check-in/",
                          {"lat": "31.2304", "lng": "121.4737", "accuracy_m": "9"})
    assert "Checked in at the site." in _messages(checked)
    assert started.check_ins.count() == 1
    finish = client.get(f"/investigations/{started.pk}/?section=finish").content.decode()
    assert "Check out: I am leaving the site" in finish
    out = client.post(f"/investigations/{started.pk}/check-out/",
                      {"lat": "31.2305", "lng": "121.4738"})
    assert "Checked out: your time on site is recorded." in _messages(out)
    assert started.check_ins.get().checked_out_at is not None


def test_reviewer_page_shows_findings_and_returns_with_item_comments(client, world, api_as,
                                                                     started):
    submitted = _submitted(world, api_as, started)
    _login(client, world, "reviewer.north")
    page = client.get(f"/investigations/{submitted.pk}/review/").content.decode()
    assert "Accept the investigation" in page and "Cross-checks" in page
    assert submitted.cross_check_findings
    for finding in submitted.cross_check_findings + submitted.red_flags:
        assert escape(finding["message_en"]) in page and escape(finding["explanation"]) in page
    assert "/documents/ph-c1_site_photos-0/download/" in page  # evidence links
    returned = client.post(f"/investigations/{submitted.pk}/return/", {
        "comment-B10_REPUTATION": "Name the neighbours.", "comment-B1_OVERDUE": " "})
    assert "Investigation returned to the officers with your comments." in _messages(returned)
    assert list(ItemComment.objects.values_list("item__code", "text")) == [
        ("B10_REPUTATION", "Name the neighbours.")]

    _login(client, world, "assistant.north")
    form = client.get(f"/investigations/{submitted.pk}/?section=B").content.decode()
    assert "Name the neighbours." in form and 'class="reviewer-comment"' in form


def test_only_an_independent_reviewer_accepts(client, world, api_as, started):
    submitted = _submitted(world, api_as, started)
    _login(client, world, "am.north")
    assert "Accept the investigation" not in client.get(
        f"/investigations/{submitted.pk}/review/").content.decode()
    assert client.post(f"/investigations/{submitted.pk}/accept/").status_code == 403
    _login(client, world, "reviewer.north")
    accepted = client.post(f"/investigations/{submitted.pk}/accept/", {"comment": "Fine."})
    assert "Investigation accepted." in _messages(accepted)
    submitted.refresh_from_db()
    assert submitted.state == InvestigationState.ACCEPTED


def test_form_page_in_chinese(client, world, started):
    _login(client, world, "am.north")
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/investigations/{started.pk}/?section=B",
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    b1 = started.template.items.get(code="B1_OVERDUE")
    assert b1.label_zh in html
