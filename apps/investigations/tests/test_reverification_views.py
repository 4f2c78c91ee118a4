"""Re-verification pages: the team lead's list and outcome form, permissions (assignee only,
branch scope, officers kept out), the per-officer table, and the status on the investigation
pages."""

import pytest
from django.contrib.messages import get_messages

from apps.audit.models import AuditEvent
from apps.investigations.states import ReVerificationState
from apps.investigations.tests.api import conftest as api_fixtures
from apps.investigations.tests.reverification_fixtures import sampled

pytestmark = pytest.mark.django_db

investigating, assigned = api_fixtures.investigating, api_fixtures.assigned
__all__ = ["sampled"]

LIST = "/investigations/reverifications/"


def _page(sampled):
    return f"{LIST}{sampled.pk}/"


def _as(client, world, username):
    client.force_login(world.user(username))
    return client


def test_team_lead_sees_the_file_to_reverify_and_the_outcomes(client, world, sampled):
    html = _as(client, world, "lead.north").get(LIST).content.decode()
    application = sampled.investigation.application
    assert f'href="{_page(sampled)}"' in html and application.reference in html
    assert application.enterprise.name in html
    assert world.user("assistant.north").display_name in html
    assert 'datetime="2026-03-14T10:30:00' in html  # the investigation's acceptance
    assert "1 re-verification to do" in html
    assert f'id="officer-{world.user("am.north").pk}"' in html  # per-officer table
    assert f'href="{LIST}"' in html  # the menu entry


def test_assigned_team_lead_records_discrepancies_with_notes(client, world, sampled):
    _as(client, world, "lead.north")
    form = client.get(_page(sampled)).content.decode()
    assert 'name="outcome"' in form and 'value="callback"' in form
    missing = client.post(_page(sampled), {"method": "callback", "outcome": "discrepancies",
                                           "notes": "  "})
    assert missing.status_code == 400
    assert "Say what did not match." in missing.content.decode()
    sampled.refresh_from_db()
    assert sampled.state == ReVerificationState.OPEN and not AuditEvent.objects.filter(
        action="reverification.completed").exists()

    done = client.post(_page(sampled), {"method": "callback", "outcome": "discrepancies",
                                        "notes": "The supplier never heard of them."})
    assert done.status_code == 302
    assert "Re-verification outcome recorded." in [str(m) for m in
                                                   get_messages(done.wsgi_request)]
    sampled.refresh_from_db()
    assert (sampled.state, sampled.outcome, sampled.method) == (
        ReVerificationState.DONE, "discrepancies", "callback")
    event = AuditEvent.objects.get(action="reverification.completed")
    assert event.actor_id == world.user("lead.north").pk
    assert event.payload["notes"] == "The supplier never heard of them."
    page = client.get(_page(sampled)).content.decode()
    assert 'name="outcome"' not in page and "The supplier never heard of them." in page
    again = client.post(_page(sampled), {"method": "revisit", "outcome": "confirmed"})
    assert again.status_code == 302
    sampled.refresh_from_db()
    assert sampled.outcome == "discrepancies"  # recorded once
    counts = client.get(LIST).content.decode()
    assert "0 re-verifications to do" in counts


def test_only_the_assignee_records_and_others_are_kept_out(client, world, sampled):
    _as(client, world, "reviewer.north")  # a risk reader of the branch: sees, cannot record
    page = client.get(_page(sampled))
    assert page.status_code == 200 and 'name="outcome"' not in page.content.decode()
    assert client.post(_page(sampled), {"method": "revisit",
                                        "outcome": "confirmed"}).status_code == 403
    assert client.get(LIST).status_code == 200
    _as(client, world, "am.north")  # an officer of the file: not told it is being checked
    assert client.get(_page(sampled)).status_code == 404
    assert client.post(_page(sampled), {"method": "revisit",
                                        "outcome": "confirmed"}).status_code == 404
    assert client.get(LIST).status_code == 403
    _as(client, world, "lead.south")  # another branch
    assert client.get(_page(sampled)).status_code == 404
    assert client.post(_page(sampled), {"method": "revisit",
                                        "outcome": "confirmed"}).status_code == 404
    south = client.get(LIST).content.decode()
    assert sampled.investigation.application.reference not in south
    sampled.refresh_from_db()
    assert sampled.state == ReVerificationState.OPEN


def test_investigation_pages_show_the_sampling_and_its_outcome(client, world, sampled):
    from apps.investigations.controls.reverification import reverification_complete

    investigation = sampled.investigation
    _as(client, world, "reviewer.north")
    review = client.get(f"/investigations/{investigation.pk}/review/").content.decode()
    assert f'href="{_page(sampled)}"' in review and "open, with" in review
    reverification_complete(reverification_id=sampled.pk, actor=world.user("lead.north"),
                            outcome="confirmed", notes="", method="revisit")
    section = client.get(f"/applications/{investigation.application_id}/").content.decode()
    assert f'href="{_page(sampled)}"' in section and "Confirmed" in section
    assert "Re-visit" in section
    _as(client, world, "am.north")
    officer = client.get(f"/applications/{investigation.application_id}/").content.decode()
    assert _page(sampled) not in officer
