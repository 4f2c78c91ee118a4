"""Every lifecycle command: 404 across branches, 403 for the wrong person, 400 for bad input,
the move itself, and 409 when repeated from the state it led to."""

import pytest

from apps.applications.states import ApplicationState as S
from apps.applications.tests.api.conftest import assert_error
from apps.audit.models import AuditEvent
from apps.parties.tests.factories import make_user

pytestmark = pytest.mark.django_db

LONG = "x" * 2001

# action, source state, who may, who may not, valid body, invalid body, target state, event
COMMANDS = [
    ("submit", S.DRAFT, "am.north", "reviewer.north", {}, None, S.SUBMITTED,
     "application.submitted"),
    ("start-investigation", S.SUBMITTED, "am.north", "approver.north", {"comment": "Go"},
     {"comment": LONG}, S.INVESTIGATING, "application.investigation_started"),
    ("send-to-review", S.INVESTIGATING, "am.north", "reviewer.north", {},
     {"comment": LONG}, S.UNDER_REVIEW, "application.sent_to_review"),
    ("return", S.UNDER_REVIEW, "reviewer.north", "am.north", {"comment": "Add the lease."},
     {}, S.RETURNED, "application.returned"),
    ("resume-investigation", S.RETURNED, "am.north", "reviewer.north", {},
     {"comment": LONG}, S.INVESTIGATING, "application.investigation_resumed"),
    ("reject", S.UNDER_REVIEW, "reviewer.north", "am.north", {"reason": "Weak."},
     {"reason": ""}, S.REJECTED, "application.rejected"),
    ("contract", S.APPROVED, "postloan.north", "am.north", {}, {"comment": LONG},
     S.CONTRACTED, "application.contracted"),
    ("disburse", S.CONTRACTED, "postloan.north", "approver.north", {}, {"comment": LONG},
     S.DISBURSED, "application.disbursed"),
    ("withdraw", S.SUBMITTED, "am.north", "reviewer.north", {"reason": "Found cheaper."},
     {}, S.WITHDRAWN, "application.withdrawn"),
]


def _events(application, action: str) -> int:
    return AuditEvent.objects.filter(action=action, subject_id=str(application.pk)).count()


@pytest.mark.parametrize(("action", "source", "allowed", "refused", "body", "bad_body",
                          "target", "event"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command(world, api_as, action, source, allowed, refused, body, bad_body, target,
                 event):
    app = world.in_state(source)
    url = f"/api/v1/applications/{app.pk}/{action}/"

    assert_error(api_as(allowed.replace("north", "south")).post(url, body, format="json"),
                 404, "not_found")
    assert_error(api_as(refused).post(url, body, format="json"), 403, "permission_denied")
    if bad_body is not None:
        errors = assert_error(api_as(allowed).post(url, bad_body, format="json"), 400)
        assert errors["fields"]
    app.refresh_from_db()
    assert app.state == source  # refusals changed nothing

    response = api_as(allowed).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == target
    app.refresh_from_db()
    assert app.state == target
    assert _events(app, event) == 1

    again = assert_error(api_as(allowed).post(url, body, format="json"), 409)
    assert again["code"] in {"transition_not_allowed", "application_blocked"}
    assert again["detail"]


@pytest.mark.parametrize(("action", "source", "username", "body"), [
    ("send-to-approval", S.UNDER_REVIEW, "reviewer.north", {"comment": "Cash flow 1.6x."}),
    ("approve", S.IN_APPROVAL, "approver.north", {"reason": "Sound."}),
])
def test_approval_moves_go_through_the_approvals_app(world, api_as, action, source, username,
                                                     body):
    """Only the review opinion and a fully signed route (apps.approvals) move a file into
    and out of approval: these commands are refused with the guard's reasons."""
    app = world.in_state(source)
    errors = assert_error(api_as(username).post(f"/api/v1/applications/{app.pk}/{action}/",
                                                body, format="json"), 409,
                          "application_blocked")
    assert errors["fields"]["reasons"]


def test_approve_keeps_requested_and_approved_amounts_apart(world, api_as):
    from apps.demo.seed import DEMO_PASSWORD

    app = world.in_state(S.IN_APPROVAL)
    step = app.approval_routes.get().steps.get()
    signed = api_as("approver.north").post(
        f"/api/v1/approvals/steps/{step.pk}/sign/",
        {"decision": "approve", "reason": "Sound.", "amount": "350000.00", "rate": "4.350",
         "password": DEMO_PASSWORD}, format="json")
    assert signed.status_code == 200, signed.json()
    body = api_as("approver.north").get(f"/api/v1/applications/{app.pk}/").json()
    assert (body["amount_requested"], body["amount_approved"], body["rate_approved"]) == (
        "500000.00", "350000.00", "4.350")


def test_approve_above_the_request_is_400_from_the_service(world, api_as):
    app = world.in_state(S.IN_APPROVAL)
    errors = assert_error(api_as("approver.north").post(
        f"/api/v1/applications/{app.pk}/approve/", {"reason": "Sound.", "amount": "900000"},
        format="json"), 400)
    assert list(errors["fields"]) == ["amount"]


def test_submit_with_missing_terms_is_400_naming_them(world, api_as):
    app = world.draft(purpose="")
    errors = assert_error(api_as("am.north").post(
        f"/api/v1/applications/{app.pk}/submit/", {}, format="json"), 400)
    assert list(errors["fields"]) == ["purpose"]


def test_submit_of_an_ineligible_enterprise_is_409_with_reasons(world, api_as):
    app = world.draft(enterprise=world.enterprise(tax_credit_rating="D"))
    errors = assert_error(api_as("am.north").post(
        f"/api/v1/applications/{app.pk}/submit/", {}, format="json"), 409,
        "application_blocked")
    assert errors["fields"]["reasons"]


def test_commands_from_the_wrong_state_are_409_in_the_error_shape(world, api_as):
    app = world.draft()
    errors = assert_error(api_as("approver.north").post(
        f"/api/v1/applications/{app.pk}/approve/", {"reason": "Sound."}, format="json"), 409,
        "transition_not_allowed")
    assert errors["fields"] == {}


def test_reassign(world, api_as):
    app = world.draft()
    other = make_user("am2.north", branch=world.north, roles=["account_manager"])
    url = f"/api/v1/applications/{app.pk}/reassign/"
    assert_error(api_as("lead.south").post(url, {"account_manager_id": other.pk},
                                           format="json"), 404)
    assert_error(api_as("am.north").post(url, {"account_manager_id": other.pk},
                                         format="json"), 403, "permission_denied")
    assert list(assert_error(api_as("lead.north").post(url, {}, format="json"),
                             400)["fields"]) == ["account_manager_id"]
    south_am = world.user("am.south")  # not visible to a north team lead: as if absent
    assert assert_error(api_as("lead.north").post(url, {"account_manager_id": south_am.pk},
                                                  format="json"), 400)["fields"] == {
        "account_manager_id": ["Not found."]}

    body = api_as("lead.north").post(url, {"account_manager_id": other.pk},
                                     format="json").json()
    assert body["account_manager"] == "am2.north"
    assert _events(app, "application.reassigned") == 1

    closed = world.in_state(S.WITHDRAWN)
    assert_error(api_as("lead.north").post(f"/api/v1/applications/{closed.pk}/reassign/",
                                           {"account_manager_id": other.pk}, format="json"),
                 409, "transition_not_allowed")
