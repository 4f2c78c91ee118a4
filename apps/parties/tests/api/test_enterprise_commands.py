"""API commands on enterprises: create, update, add a relationship (CONVENTIONS §6)."""

import pytest
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.parties.models import Enterprise, Person, Relationship, RelationshipKind
from apps.parties.tests.factories import PersonFactory, make_resident_id, make_uscc, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/enterprises/"


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    return body


def _create_body(**overrides):
    body = {"name": "North Hardware Co.", "uscc": make_uscc(), "industry": "C",
            "registration_date": "2020-05-18", "employees": 12,
            "annual_revenue": "2800000.00", "total_assets": "1500000.00",
            "tax_credit_rating": "B", "operating_lat": "30.274100",
            "operating_lng": "120.155100"}
    body.update(overrides)
    return body


def _events(action: str, subject) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, subject_id=str(subject.pk)))


# --- create ----------------------------------------------------------------------------------

def test_create_registers_at_my_branch_with_a_computed_size(world, api_as):
    body = _create_body(size_class="large", branch="south", size_explanation="typed")
    response = api_as("am.north").post(URL, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    enterprise = Enterprise.objects.get(pk=data["id"])
    assert enterprise.branch == world.north and data["branch"] == "north"
    assert data["size_class"] == "micro" and data["size_explanation"] != "typed"
    assert data["size_standard_version"]
    assert data["annual_revenue"] == "2800000.00" and data["total_assets"] == "1500000.00"
    assert data["relationships"] == []
    [event] = _events("enterprise.created", enterprise)
    assert event.actor == world.user("am.north") and event.payload["size_class"] == "micro"


def test_create_with_a_bad_check_character_is_400_and_saves_nothing(world, api_as):
    good = make_uscc()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    body = _error(api_as("am.north").post(URL, _create_body(uscc=bad), format="json"), 400)
    assert list(body["fields"]) == ["uscc"]
    assert not Enterprise.objects.filter(uscc=bad).exists()
    assert not AuditEvent.objects.filter(action="enterprise.created").exists()


def test_create_refuses_float_money(world, api_as):
    body = _error(api_as("am.north").post(URL, _create_body(annual_revenue=2800000.5),
                                          format="json"), 400)
    assert list(body["fields"]) == ["annual_revenue"]


def test_create_without_the_permission_is_403(world, api_as):
    body = _create_body()
    _error(api_as("approver.north").post(URL, body, format="json"), 403)
    assert not Enterprise.objects.filter(uscc=body["uscc"]).exists()


def test_create_is_idempotent(world, api_as):
    api = api_as("am.north")
    body = _create_body()
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="onboard-1")
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="onboard-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Enterprise.objects.filter(uscc=body["uscc"]).count() == 1
    assert AuditEvent.objects.filter(action="enterprise.created").count() == 1
    other = api.post(URL, _create_body(), format="json", HTTP_IDEMPOTENCY_KEY="onboard-1")
    assert _error(other, 422)["code"] == "idempotency_key_reused"


# --- update ----------------------------------------------------------------------------------

def _detail(enterprise):
    return f"{URL}{enterprise.pk}/"


def test_patch_updates_audits_and_recomputes_the_size(world, api_as):
    enterprise = world.enterprise()
    response = api_as("am.north").patch(_detail(enterprise), {
        "employees": 350, "annual_revenue": "50000000.00", "size_class": "micro"},
        format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["employees"] == 350 and data["annual_revenue"] == "50000000.00"
    assert data["size_class"] == "medium"
    [event] = _events("enterprise.updated", enterprise)
    assert event.payload["changes"]["employees"] == {"old": 12, "new": 350}
    assert event.payload["changes"]["size_class"]["new"] == "medium"


def test_patch_with_an_invalid_code_is_400_and_changes_nothing(world, api_as):
    enterprise = world.enterprise()
    body = _error(api_as("am.north").patch(_detail(enterprise), {"uscc": "12345", "employees": 3},
                                           format="json"), 400)
    assert "uscc" in body["fields"]
    assert Enterprise.objects.get(pk=enterprise.pk).employees == 12
    assert not _events("enterprise.updated", enterprise)


def test_patch_of_another_branch_is_404_and_without_permission_403(world, api_as):
    south = world.enterprise(branch=world.south)
    north = world.enterprise()
    assert _error(api_as("am.north").patch(_detail(south), {"employees": 1},
                                           format="json"), 404)["code"] == "not_found"
    _error(api_as("approver.north").patch(_detail(north), {"employees": 1}, format="json"), 403)
    assert not AuditEvent.objects.filter(action="enterprise.updated").exists()


# --- relationships ---------------------------------------------------------------------------

def _relations(enterprise):
    return f"{URL}{enterprise.pk}/relationships/"


def test_a_new_person_is_recorded_and_answered_masked(world, api_as):
    enterprise = world.enterprise()
    viewer = make_user("am.masked", branch=world.north, perms=[
        "parties.view_enterprise", "parties.add_person", "parties.add_relationship"])
    api = APIClient()
    api.force_authenticate(viewer)
    resident_id = make_resident_id()
    response = api.post(_relations(enterprise), {
        "kind": "shareholder", "resident_id": resident_id, "name": "李四",
        "stake_percent": "35.50"}, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    person = Person.objects.get(name="李四")
    assert data["party"] == {"type": "person", "id": person.pk, "name": "李四",
                             "resident_id": person.masked_resident_id}
    assert data["stake_percent"] == "35.50" and data["direction"] == "in"
    edge = Relationship.objects.get(pk=data["id"])
    assert edge.to_enterprise == enterprise and edge.from_person == person
    assert _events("relationship.added", edge) and _events("person.created", person)


def test_an_existing_person_is_reused_and_shown_in_full_to_account_managers(world, api_as):
    enterprise = world.enterprise()
    known = PersonFactory(name="王五")
    response = api_as("am.north").post(_relations(enterprise), {
        "kind": "guarantor", "resident_id": known.resident_id}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["party"]["resident_id"] == known.resident_id
    assert Person.objects.filter(name="王五").count() == 1


def test_an_enterprise_relation_needs_a_visible_enterprise(world, api_as):
    enterprise = world.enterprise()
    sister = world.enterprise(name="Sister Co.")
    south = world.enterprise(branch=world.south)
    api = api_as("am.north")

    hidden = _error(api.post(_relations(enterprise), {
        "kind": "related_enterprise", "enterprise_id": south.pk}, format="json"), 400)
    assert list(hidden["fields"]) == ["enterprise_id"]
    response = api.post(_relations(enterprise), {
        "kind": "related_enterprise", "enterprise_id": sister.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["party"] == {"type": "enterprise", "id": sister.pk,
                                        "name": "Sister Co.", "uscc": sister.uscc}


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "shareholder", "resident_id": "110105198001010010", "name": "X",
      "stake_percent": "10"}, "resident_id"),
    ({"kind": "guarantor", "resident_id": make_resident_id()}, "name"),
    ({"kind": "shareholder", "resident_id": make_resident_id(), "name": "X"}, "stake_percent"),
    ({"kind": "guarantor", "resident_id": make_resident_id(), "name": "X",
      "stake_percent": "10"}, "stake_percent"),
    ({"kind": "guarantor"}, "resident_id"),
    ({"kind": "spouse_of", "resident_id": make_resident_id(), "name": "X"}, "kind"),
])
def test_relationship_errors_are_400_with_the_field(world, api_as, body, field):
    enterprise = world.enterprise()
    persons = Person.objects.count()
    response = _error(api_as("am.north").post(_relations(enterprise), body, format="json"), 400)
    assert field in response["fields"]
    assert Person.objects.count() == persons
    assert not AuditEvent.objects.filter(action="relationship.added").exists()


def test_a_refused_edge_leaves_no_new_person_behind(world, api_as):
    enterprise = world.enterprise()
    api = api_as("am.north")
    first = api.post(_relations(enterprise), {"kind": "shareholder", "name": "甲",
                     "resident_id": make_resident_id(), "stake_percent": "70"}, format="json")
    assert first.status_code == 201
    refused = _error(api.post(_relations(enterprise), {
        "kind": "shareholder", "name": "乙", "resident_id": make_resident_id(),
        "stake_percent": "40"}, format="json"), 400)
    assert "stake_percent" in refused["fields"]
    assert not Person.objects.filter(name="乙").exists()


def test_relationship_on_another_branch_is_404_and_without_permission_403(world, api_as):
    south = world.enterprise(branch=world.south)
    north = world.enterprise()
    body = {"kind": "guarantor", "resident_id": make_resident_id(), "name": "X"}
    _error(api_as("am.north").post(_relations(south), body, format="json"), 404)
    _error(api_as("approver.north").post(_relations(north), body, format="json"), 403)
    assert not Person.objects.filter(name="X").exists()


def test_relationship_add_is_idempotent(world, api_as):
    enterprise = world.enterprise()
    api = api_as("am.north")
    body = {"kind": "guarantor", "resident_id": make_resident_id(), "name": "X"}
    first = api.post(_relations(enterprise), body, format="json", HTTP_IDEMPOTENCY_KEY="rel-1")
    again = api.post(_relations(enterprise), body, format="json", HTTP_IDEMPOTENCY_KEY="rel-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Relationship.objects.filter(to_enterprise=enterprise,
                                       kind=RelationshipKind.GUARANTOR).count() == 1
