import pytest
from rest_framework.test import APIClient

from apps.parties.tests.factories import make_user

pytestmark = pytest.mark.django_db


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    return body


def _nobody(world) -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user("nobody", branch=world.north))
    return api


def test_products_with_the_version_in_force_and_its_conditions(world, api_as,
                                                               django_assert_max_num_queries):
    api = api_as("approver.north")
    api.get("/api/v1/products/")
    with django_assert_max_num_queries(3):
        body = api.get("/api/v1/products/").json()
    product = next(p for p in body if p["code"] == "tax-credit-loan")
    version = product["version_in_force"]
    assert version["id"] == world.version.pk
    assert (version["amount_min"], version["amount_max"]) == ("10000.00", "3000000.00")
    assert version["rate_min"] == "3.450"
    codes = {c["code"] for c in version["conditions"]}
    assert {"years-in-operation", "tax-rating"} <= codes
    condition = next(c for c in version["conditions"] if c["code"] == "tax-rating")
    assert condition["value"] == ["A", "B", "M"] and condition["reason_zh"]


def test_products_need_the_view_permission(world):
    assert _error(_nobody(world).get("/api/v1/products/"), 403)["code"] == "permission_denied"


def test_eligibility_lists_each_product_with_failed_conditions(world, api_as):
    enterprise = world.enterprise(tax_credit_rating="D")
    body = api_as("am.north").get(f"/api/v1/enterprises/{enterprise.pk}/eligibility/").json()
    tax_loan = next(r for r in body if r["product"] == "tax-credit-loan")
    assert tax_loan["eligible"] is False
    assert tax_loan["product_version_id"] == world.version.pk
    failure = next(f for f in tax_loan["failures"] if f["code"] == "tax-rating")
    assert failure["expected"] == ["A", "B", "M"]
    assert failure["actual"] == "D"
    assert failure["reason_en"] and failure["reason_zh"]


def test_an_eligible_enterprise_has_no_failures_and_comes_first(world, api_as):
    enterprise = world.enterprise()
    body = api_as("am.north").get(f"/api/v1/enterprises/{enterprise.pk}/eligibility/").json()
    assert body[0]["eligible"] is True and body[0]["failures"] == []
    assert any(r["product"] == "tax-credit-loan" and r["eligible"] for r in body)


def test_eligibility_of_another_branchs_enterprise_is_404(world, api_as):
    south = world.enterprise(branch=world.south)
    assert _error(api_as("am.north").get(f"/api/v1/enterprises/{south.pk}/eligibility/"),
                  404)["code"] == "not_found"


def test_eligibility_needs_the_view_permission(world):
    enterprise = world.enterprise()
    assert _error(_nobody(world).get(f"/api/v1/enterprises/{enterprise.pk}/eligibility/"),
                  403)["code"] == "permission_denied"
