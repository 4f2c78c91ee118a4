import pytest

from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def _url(application) -> str:
    return f"/api/v1/applications/{application.pk}/"


def test_detail_has_terms_amounts_as_strings_eligibility_and_my_actions(world, api_as):
    app = world.in_state(S.SUBMITTED)
    body = api_as("am.north").get(_url(app)).json()
    assert body["reference"] == app.reference
    assert body["state"] == "submitted"
    assert body["amount_requested"] == "500000.00"
    assert body["amount_approved"] is None
    assert body["eligibility"]["eligible"] is True
    assert body["eligibility"]["product"] == "tax-credit-loan"
    assert body["enterprise_name"] == app.enterprise.name
    assert set(body["actions"]) == {"start-investigation", "withdraw"}


def test_actions_depend_on_the_caller(world, api_as):
    app = world.in_state(S.UNDER_REVIEW)
    assert api_as("am.north").get(_url(app)).json()["actions"] == ["withdraw"]
    assert set(api_as("reviewer.north").get(_url(app)).json()["actions"]) == {
        "return", "send-to-approval", "reject"}
    assert api_as("approver.north").get(_url(app)).json()["actions"] == []


def test_approved_amount_and_rate_are_decimal_strings(world, api_as):
    app = world.in_state(S.APPROVED)
    body = api_as("approver.north").get(_url(app)).json()
    assert body["amount_approved"] == "500000.00"
    assert isinstance(body["rate_approved"], str)
    assert body["decided_by"] == "approver.north"


def test_another_branchs_application_is_404(world, api_as):
    app = world.draft()
    assert_error(api_as("am.south").get(_url(app)), 404, "not_found")
    assert_error(api_as("lead.south").patch(_url(app), {"term_months": 6}, format="json"), 404)


def test_unknown_application_is_404(world, api_as):
    assert_error(api_as("am.north").get("/api/v1/applications/999999/"), 404)


def test_patch_edits_a_draft(world, api_as):
    app = world.draft()
    response = api_as("am.north").patch(_url(app), {"term_months": 6, "amount_requested":
                                                    "300000.50"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["amount_requested"] == "300000.50"
    app.refresh_from_db()
    assert (app.term_months, str(app.amount_requested)) == (6, "300000.50")


def test_patch_refuses_floats_and_bad_choices_with_field_errors(world, api_as):
    app = world.draft()
    body = assert_error(api_as("am.north").patch(
        _url(app), {"amount_requested": 300000.5, "repayment_method": "whenever"},
        format="json"), 400, "invalid")
    assert set(body["fields"]) == {"amount_requested", "repayment_method"}


def test_patch_outside_the_products_terms_is_400_from_the_service(world, api_as):
    app = world.draft()
    body = assert_error(api_as("am.north").patch(_url(app), {"amount_requested": "1.00"},
                                                 format="json"), 400)
    assert list(body["fields"]) == ["amount_requested"]


def test_patch_cannot_set_state_or_decision_fields(world, api_as):
    app = world.draft()
    response = api_as("am.north").patch(_url(app), {"state": "approved", "decided_by": 1,
                                                    "eligibility": {"eligible": True}},
                                        format="json")
    assert response.status_code == 200
    app = Application.objects.get(pk=app.pk)
    assert (app.state, app.decided_by_id, app.eligibility) == (S.DRAFT, None, {})


def test_patch_by_someone_not_preparing_the_file_is_403(world, api_as):
    app = world.draft()
    assert_error(api_as("reviewer.north").patch(_url(app), {"term_months": 6}, format="json"),
                 403, "permission_denied")


def test_patch_after_submission_is_409(world, api_as):
    app = world.in_state(S.SUBMITTED)
    assert_error(api_as("am.north").patch(_url(app), {"term_months": 6}, format="json"),
                 409, "transition_not_allowed")
