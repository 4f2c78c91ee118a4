import pytest

from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.api.conftest import assert_error
from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/applications/"


def test_list_is_scoped_to_the_callers_branch_and_files(world, api_as, south_app):
    north = world.draft()
    assert [row["id"] for row in api_as("lead.north").get(URL).json()["results"]] == [north.pk]
    assert [row["id"] for row in api_as("am.south").get(URL).json()["results"]] == [
        south_app.pk]
    assert api_as("auditor.north").get(URL).json()["count"] == 2


def test_list_filters_by_state_and_paginates(world, api_as):
    drafts = [world.draft() for _ in range(3)]
    submitted = world.in_state(S.SUBMITTED)
    api = api_as("lead.north")
    body = api.get(URL, {"state": "submitted"}).json()
    assert [row["id"] for row in body["results"]] == [submitted.pk]
    assert body["results"][0]["amount_requested"] == "500000.00"
    page = api.get(URL, {"state": "draft", "limit": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert {row["id"] for row in page["results"]} <= {d.pk for d in drafts}


def test_list_with_an_unknown_state_is_400_with_the_field(world, api_as):
    body = assert_error(api_as("am.north").get(URL, {"state": "granted"}), 400, "invalid")
    assert list(body["fields"]) == ["state"]


@pytest.mark.parametrize("rows", [2, 8])
def test_list_takes_at_most_three_queries_whatever_the_page_size(
        world, api_as, rows, django_assert_max_num_queries):
    for _ in range(rows):
        world.draft()
    api = api_as("am.north")
    api.get(URL)  # the caller's roles are cached on the user for the rest of the request
    with django_assert_max_num_queries(3):
        body = api.get(URL).json()
    assert len(body["results"]) == rows


def test_create_opens_a_draft(world, api_as):
    enterprise = world.enterprise()
    response = api_as("am.north").post(URL, {
        "enterprise_id": enterprise.pk, "product_version_id": world.version.pk,
        "amount_requested": "200000.00", "term_months": 12, "purpose": "Stock",
        "repayment_method": "equal_instalment", "collateral_type": "none",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["account_manager"]) == ("draft", "am.north")
    assert "submit" in body["actions"]
    app = Application.objects.get(pk=body["id"])
    assert app.created_by.username == "am.north"
    assert AuditEvent.objects.filter(action="application.created",
                                     subject_id=str(app.pk)).count() == 1


def test_create_ignores_state_and_decision_fields(world, api_as):
    response = api_as("am.north").post(URL, {
        "enterprise_id": world.enterprise().pk, "product_version_id": world.version.pk,
        "state": "approved", "decided_by": 1, "eligibility": {"eligible": True}},
        format="json")
    assert response.status_code == 201
    app = Application.objects.get(pk=response.json()["id"])
    assert (app.state, app.decided_by_id, app.eligibility) == (S.DRAFT, None, {})


def test_create_with_missing_or_invalid_fields_is_400(world, api_as):
    body = assert_error(api_as("am.north").post(URL, {"amount_requested": 1.5},
                                                format="json"), 400, "invalid")
    assert set(body["fields"]) == {"enterprise_id", "product_version_id", "amount_requested"}


def test_create_outside_the_products_terms_is_400_from_the_service(world, api_as):
    body = assert_error(api_as("am.north").post(URL, {
        "enterprise_id": world.enterprise().pk, "product_version_id": world.version.pk,
        "term_months": 600}, format="json"), 400)
    assert list(body["fields"]) == ["term_months"]


def test_another_branchs_enterprise_looks_like_no_enterprise(world, api_as, south_app):
    api = api_as("am.north")
    other = assert_error(api.post(URL, {"enterprise_id": south_app.enterprise_id,
                                        "product_version_id": world.version.pk},
                                  format="json"), 400)
    missing = assert_error(api.post(URL, {"enterprise_id": 999999,
                                          "product_version_id": world.version.pk},
                                    format="json"), 400)
    assert other["fields"] == missing["fields"] == {"enterprise_id": ["Not found."]}


def test_create_by_a_reviewer_is_403(world, api_as):
    assert_error(api_as("reviewer.north").post(URL, {
        "enterprise_id": world.enterprise().pk, "product_version_id": world.version.pk},
        format="json"), 403, "permission_denied")
