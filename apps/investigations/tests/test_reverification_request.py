"""A team lead asks for one accepted investigation to be re-verified (besides the random
sample): the service (permission, branch, state, one per file, reason, audit), its API (201,
400, 403, 404, 409) and the button on the application and review pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.roles import Role
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.investigations.controls import policies
from apps.investigations.controls.reverification import reverification_request
from apps.investigations.models import Investigation, PolicyValue, ReVerification
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.states import InvestigationState, ReVerificationState
from apps.investigations.tests.api import conftest as api_fixtures
from apps.investigations.tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

investigating, assigned = api_fixtures.investigating, api_fixtures.assigned
REASON = "The supplier named in C3 could not be found on the map."


def _no_random_sample() -> None:
    """A sample rate of 0 in force, so the random draw on acceptance never opens one (it
    depends on the row's id) and each test decides what exists."""
    policies.seed_control_policies()
    key = "control.reverify.sample_rate"
    latest = PolicyValue.objects.filter(key=key).order_by("-version").first()
    PolicyValue.objects.create(key=key, value=Decimal("0"), version=latest.version + 1,
                               effective_from=dt.date(2024, 1, 2), source_citation="test")


@pytest.fixture
def accepted(world):
    """A north file whose investigation (am.north and assistant.north) a reviewer accepted;
    the random sample did not draw it."""
    seed_builtin_templates()
    _no_random_sample()
    application = world.in_state(ApplicationState.INVESTIGATING)
    investigation = Investigation.objects.get(application=application)
    assert investigation.state == InvestigationState.ACCEPTED
    assert not ReVerification.objects.filter(investigation=investigation).exists()
    return investigation


def _request(world, investigation, username="lead.north", reason=REASON):
    return reverification_request(investigation_id=investigation.pk, actor=world.user(username),
                                  reason=reason)


# --- the service -----------------------------------------------------------------------------

def test_team_lead_requests_and_is_assigned_with_an_event_on_the_files_trail(world, accepted):
    lead = world.user("lead.north")
    reverification = _request(world, accepted, reason=f"  {REASON} ")
    assert (reverification.state, reverification.assigned_to, reverification.requested_by,
            reverification.reason) == (ReVerificationState.OPEN, lead, lead, REASON)
    assert reverification.sample_rate is None and reverification.draw is None
    accepted.refresh_from_db()
    assert accepted.state == InvestigationState.ACCEPTED  # the file stays accepted
    event = AuditEvent.objects.get(action="reverification.requested")
    application = accepted.application
    assert (event.actor_id, event.subject_id, event.application_id, event.branch_id) == (
        lead.pk, str(reverification.pk), application.pk, application.branch_id)
    assert event.payload["reason"] == REASON
    assert event.payload["officers"] == sorted(accepted.officer_ids)


@pytest.mark.parametrize("username", ["reviewer.north", "approver.north", "am.north"])
def test_only_a_team_lead_may_ask(world, accepted, username):
    with pytest.raises(PermissionDenied):
        _request(world, accepted, username)
    assert not ReVerification.objects.exists()
    assert not AuditEvent.objects.filter(action="reverification.requested").exists()


def test_a_team_lead_who_investigated_the_file_or_of_another_branch_may_not(world, accepted):
    officer = world.user("assistant.north")
    officer.groups.add(Group.objects.get(name=Role.TEAM_LEAD))
    with pytest.raises(PermissionDenied):
        _request(world, accepted, "assistant.north")
    with pytest.raises(PermissionDenied):
        _request(world, accepted, "lead.south")
    assert not ReVerification.objects.exists()


def test_only_an_accepted_file_once_and_with_a_reason(world, assigned, accepted):
    with pytest.raises(TransitionConflict):  # not accepted yet
        _request(world, assigned)
    with pytest.raises(ValidationError) as refused:
        _request(world, accepted, reason="   ")
    assert "reason" in refused.value.message_dict
    first = _request(world, accepted)
    with pytest.raises(TransitionConflict):  # one per investigation, drawn or asked for
        _request(world, accepted)
    assert list(ReVerification.objects.values_list("pk", flat=True)) == [first.pk]
    assert AuditEvent.objects.filter(action="reverification.requested").count() == 1


# --- the API ---------------------------------------------------------------------------------

def _api(investigation):
    return f"/api/v1/investigations/{investigation.pk}/request-reverification/"


def test_api_request_and_its_refusals(world, api_as, assigned, accepted):
    assert_error(api_as("lead.north").post(_api(accepted), {}, format="json"), 400)
    assert_error(api_as("reviewer.north").post(_api(accepted), {"reason": REASON},
                                               format="json"), 403)
    assert_error(api_as("lead.south").post(_api(accepted), {"reason": REASON},
                                           format="json"), 404)
    assert_error(api_as("lead.north").post(_api(assigned), {"reason": REASON},
                                           format="json"), 409)
    assert not ReVerification.objects.exists()

    created = api_as("lead.north").post(_api(accepted), {"reason": REASON}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    lead = world.user("lead.north")
    assert (body["state"], body["reason"], body["sample_rate"]) == ("open", REASON, None)
    assert body["requested_by"]["id"] == body["assigned_to"]["id"] == lead.pk
    assert body["investigation_id"] == accepted.pk
    again = assert_error(api_as("lead.north").post(_api(accepted), {"reason": REASON},
                                                   format="json"), 409)
    assert again["code"] == "transition_not_allowed"


def test_the_operation_and_its_refusals_are_in_the_schema(api_as):
    schema = api_as("lead.north").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/investigations/{investigation_id}/request-reverification/"]
    assert {"201", "400", "403", "404", "409"} <= set(operation["post"]["responses"])


# --- the pages -------------------------------------------------------------------------------

def test_team_lead_asks_from_the_application_page_and_lands_on_the_reverification(
        client, world, accepted):
    page = f"/applications/{accepted.application_id}/"
    action = f"/investigations/{accepted.pk}/request-reverification/"
    for username in ("am.north", "reviewer.north"):
        client.force_login(world.user(username))
        assert action not in client.get(page).content.decode()
        assert client.post(action, {"reason": REASON}).status_code == 403
    client.force_login(world.user("lead.south"))
    assert client.post(action, {"reason": REASON}).status_code == 404
    assert not ReVerification.objects.exists()

    client.force_login(world.user("lead.north"))
    html = client.get(page).content.decode()
    assert f'action="{action}"' in html and 'name="reason"' in html
    review = client.get(f"/investigations/{accepted.pk}/review/").content.decode()
    assert f'action="{action}"' in review
    blank = client.post(action, {"reason": ""})
    assert blank.status_code == 302 and blank.url == page
    assert not ReVerification.objects.exists()

    done = client.post(action, {"reason": REASON})
    reverification = ReVerification.objects.get(investigation=accepted)
    assert done.status_code == 302
    assert done.url == f"/investigations/reverifications/{reverification.pk}/"
    detail = client.get(done.url).content.decode()
    assert "Requested by" in detail and REASON in detail and 'name="outcome"' in detail
    after = client.get(page).content.decode()
    assert f'action="{action}"' not in after and "Requested by" in after
    listed = client.get("/investigations/reverifications/").content.decode()
    assert accepted.application.reference in listed
