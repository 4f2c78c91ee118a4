import pytest

from apps.parties.models import Relationship, RelationshipKind
from apps.parties.tests.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/enterprises/"


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    return body


def test_list_is_scoped_searchable_and_paginated(world, api_as):
    north = [world.enterprise(name=f"North Trading {i}") for i in range(3)]
    world.enterprise(branch=world.south, name="South Trading")
    api = api_as("am.north")
    body = api.get(URL, {"search": "Trading", "limit": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert {row["id"] for row in api.get(URL, {"search": "Trading"}).json()["results"]} == {
        e.pk for e in north}
    by_uscc = api.get(URL, {"search": north[0].uscc[:12]}).json()["results"]
    assert north[0].pk in {row["id"] for row in by_uscc}
    assert api_as("auditor.north").get(URL, {"search": "Trading"}).json()["count"] == 4


def test_list_search_too_long_is_400(world, api_as):
    assert list(_error(api_as("am.north").get(URL, {"search": "x" * 101}), 400)["fields"]) \
        == ["search"]


def test_list_takes_few_queries_whatever_the_page_size(world, api_as,
                                                      django_assert_max_num_queries):
    for i in range(6):
        world.enterprise(name=f"Firm {i}")
    api = api_as("am.north")
    api.get(URL)
    with django_assert_max_num_queries(3):
        assert len(api.get(URL).json()["results"]) >= 6


def test_staff_without_the_permission_get_403(world):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_user("nobody", branch=world.north))
    enterprise = world.enterprise()
    assert _error(api.get(URL), 403)["code"] == "permission_denied"
    assert _error(api.get(f"{URL}{enterprise.pk}/"), 403)["code"] == "permission_denied"


def test_detail_has_figures_and_relations_with_masked_ids(world, api_as):
    enterprise = world.enterprise()
    controller = Relationship.objects.get(to_enterprise=enterprise).from_person
    affiliate = world.enterprise(name="Sister Co")
    Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                from_enterprise=enterprise, to_enterprise=affiliate)

    body = api_as("approver.north").get(f"{URL}{enterprise.pk}/").json()
    assert body["annual_revenue"] == "3000000.00"
    assert body["size_class"] == enterprise.size_class
    relations = {r["kind"]: r for r in body["relationships"]}
    person = relations["actual_controller"]
    assert (person["direction"], person["party"]["name"]) == ("in", controller.name)
    assert person["party"]["resident_id"] == controller.masked_resident_id != \
        controller.resident_id
    related = relations["related_enterprise"]
    assert (related["direction"], related["party"]["uscc"]) == ("out", affiliate.uscc)

    full = api_as("am.north").get(f"{URL}{enterprise.pk}/").json()  # may see IDs in full
    assert {r["kind"]: r for r in full["relationships"]}["actual_controller"]["party"][
        "resident_id"] == controller.resident_id


def test_another_branchs_enterprise_is_404(world, api_as):
    south = world.enterprise(branch=world.south)
    assert _error(api_as("am.north").get(f"{URL}{south.pk}/"), 404)["code"] == "not_found"
    assert _error(api_as("am.north").get(f"{URL}999999/"), 404)["code"] == "not_found"
