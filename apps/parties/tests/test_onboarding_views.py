"""Onboarding pages: a new customer, its edits, and the people around it — all through the
services, with their refusals shown as field errors (400) or 403, and other branches 404."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape

from apps.audit.models import AuditEvent
from apps.parties.models import Enterprise, Person, Relationship, RelationshipKind
from apps.parties.tests.factories import PersonFactory, make_resident_id, make_uscc, make_user

pytestmark = pytest.mark.django_db

NEW = reverse("parties:enterprise-new")


def _login(client, world, username="am.north"):
    client.force_login(world.user(username))
    return client


def _enterprise_data(**overrides):
    data = {"name": "晨光五金加工有限公司", "uscc": make_uscc(), "industry": "C",
            "industry_code": "", "registration_date": "2020-05-18",
            "registered_address": "杭州市西湖区文三路 1 号", "operating_address": "",
            "operating_lat": "", "operating_lng": "", "employees": "12",
            "annual_revenue": "2800000.00", "total_assets": "1500000.00",
            "financials_currency": "CNY", "tax_credit_rating": "B"}
    data.update(overrides)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _events(action: str, subject) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, subject_id=str(subject.pk)))


# --- new customer ----------------------------------------------------------------------------

def test_the_list_offers_new_customer_only_to_those_who_may_add(client, world):
    list_url = reverse("parties:enterprise-list")
    assert NEW in _login(client, world).get(list_url).content.decode()
    assert NEW not in _login(client, world, "approver.north").get(list_url).content.decode()


def test_new_customer_is_registered_at_my_branch_with_a_computed_size(client, world):
    data = _enterprise_data(size_class="large", branch=world.south.pk)  # not form fields
    response = _login(client, world).post(NEW, data)

    enterprise = Enterprise.objects.get(uscc=data["uscc"])
    assert response.status_code == 302
    assert response["Location"] == reverse("parties:enterprise-detail", args=[enterprise.pk])
    assert enterprise.branch == world.north
    assert enterprise.size_class == "micro"  # 12 staff, 280 万元 revenue: computed
    assert enterprise.annual_revenue == Decimal("2800000.00")
    assert _events("enterprise.created", enterprise)[0].actor == world.user("am.north")

    page = client.get(response["Location"])
    html = page.content.decode()
    assert enterprise.size_explanation and escape(enterprise.size_explanation) in html
    assert any("size class" in message for message in _messages(page))


def test_new_customer_with_a_bad_check_character_is_a_field_error(client, world):
    good = make_uscc()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = _login(client, world).post(NEW, _enterprise_data(uscc=bad))

    assert response.status_code == 400
    assert response.context["form"].errors["uscc"]
    assert 'class="field-error" id="id_uscc_error"' in response.content.decode()
    assert not Enterprise.objects.filter(uscc=bad).exists()
    assert not AuditEvent.objects.filter(action="enterprise.created").exists()


def test_a_duplicate_credit_code_is_a_field_error(client, world):
    existing = world.enterprise()
    response = _login(client, world).post(NEW, _enterprise_data(uscc=existing.uscc.lower()))
    assert response.status_code == 400
    assert response.context["form"].errors["uscc"]
    assert Enterprise.objects.filter(uscc=existing.uscc).count() == 1


def test_htmx_gets_the_form_back_with_400_or_a_redirect(client, world):
    _login(client, world)
    refused = client.post(NEW, _enterprise_data(uscc="91330106MA2XXXXXXX"), HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "<html" not in html and "field-error" in html

    done = client.post(NEW, _enterprise_data(), HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert done["HX-Redirect"].startswith("/customers/")


def test_new_customer_is_refused_to_roles_without_the_permission(client, world):
    _login(client, world, "approver.north")
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _enterprise_data()).status_code == 403
    assert not Enterprise.objects.filter(name="晨光五金加工有限公司").exists()


# --- edit ------------------------------------------------------------------------------------

def _edit_url(enterprise):
    return reverse("parties:enterprise-edit", args=[enterprise.pk])


def test_edit_saves_through_the_service_and_says_what_changed(client, world):
    enterprise = world.enterprise(name="恒信五金有限公司")
    _login(client, world)
    form = client.get(_edit_url(enterprise)).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update(employees="30", tax_credit_rating="A")

    response = client.post(_edit_url(enterprise), data, follow=True)

    enterprise.refresh_from_db()
    assert enterprise.employees == 30
    [message] = _messages(response)
    assert "employees: 12 → 30" in message
    [event] = _events("enterprise.updated", enterprise)
    assert event.payload["changes"]["employees"] == {"old": 12, "new": 30}
    assert "tax_credit_rating" not in event.payload["changes"]  # unchanged: not in the trail


def test_edit_link_on_the_enterprise_page_follows_the_permission(client, world):
    enterprise = world.enterprise()
    detail = reverse("parties:enterprise-detail", args=[enterprise.pk])
    assert _edit_url(enterprise) in _login(client, world).get(detail).content.decode()
    assert _edit_url(enterprise) not in _login(client, world, "approver.north").get(
        detail).content.decode()


def test_edit_with_an_invalid_code_is_a_field_error_and_changes_nothing(client, world):
    enterprise = world.enterprise()
    _login(client, world)
    response = client.post(_edit_url(enterprise), _enterprise_data(uscc="123"))
    assert response.status_code == 400
    assert response.context["form"].errors["uscc"]
    assert Enterprise.objects.get(pk=enterprise.pk).uscc == enterprise.uscc
    assert not _events("enterprise.updated", enterprise)


def test_edit_of_another_branch_is_404_and_without_permission_403(client, world):
    south = world.enterprise(branch=world.south)
    north = world.enterprise()
    assert _login(client, world).get(_edit_url(south)).status_code == 404
    assert _login(client, world).post(_edit_url(south), _enterprise_data()).status_code == 404
    assert _login(client, world, "approver.north").get(_edit_url(north)).status_code == 403


# --- people around the enterprise ------------------------------------------------------------

def _relate_url(enterprise):
    return reverse("parties:relationship-new", args=[enterprise.pk])


def _relation(**overrides):
    data = {"kind": RelationshipKind.SHAREHOLDER, "resident_id": make_resident_id(),
            "name": "李四", "phone": "13900139000", "stake_percent": "40", "note": ""}
    data.update(overrides)
    return data


@pytest.fixture
def masked_am(world):
    """An account manager's rights without `parties.view_full_resident_id`."""
    return make_user("am.masked", branch=world.north, perms=[
        "parties.view_enterprise", "parties.add_person", "parties.add_relationship"])


def test_a_new_person_is_recorded_and_shown_masked(client, world, masked_am):
    enterprise = world.enterprise()
    data = _relation()
    client.force_login(masked_am)
    response = client.post(_relate_url(enterprise), data, follow=True)

    person = Person.objects.get(name="李四")
    edge = Relationship.objects.get(from_person=person, to_enterprise=enterprise)
    assert edge.kind == RelationshipKind.SHAREHOLDER and edge.stake_percent == 40
    [message] = _messages(response)
    assert person.masked_resident_id in message and data["resident_id"] not in message
    assert data["resident_id"] not in response.content.decode()
    assert _events("person.created", person)
    assert _events("relationship.added", edge)[0].payload["kind"] == "shareholder"


def test_a_viewer_with_the_permission_sees_the_full_id(client, world):
    enterprise = world.enterprise()
    data = _relation(kind=RelationshipKind.LEGAL_REPRESENTATIVE, stake_percent="")
    response = _login(client, world).post(_relate_url(enterprise), data, follow=True)
    assert data["resident_id"] in _messages(response)[0]


def test_an_existing_person_is_found_by_id_not_recorded_twice(client, world):
    enterprise = world.enterprise()
    known = PersonFactory(name="王五")
    response = _login(client, world).post(_relate_url(enterprise), _relation(
        kind=RelationshipKind.GUARANTOR, resident_id=known.resident_id.lower(), name="",
        stake_percent=""))
    assert response.status_code == 302
    assert Person.objects.filter(name="王五").count() == 1
    assert Relationship.objects.filter(from_person=known, to_enterprise=enterprise,
                                       kind=RelationshipKind.GUARANTOR).exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"resident_id": "110105198001010010"}, "resident_id"),  # wrong check digit
    ({"name": ""}, "name"),  # unknown person, no name
    ({"stake_percent": ""}, "stake_percent"),  # shareholder without stake
    ({"kind": RelationshipKind.GUARANTOR}, "stake_percent"),  # stake on a guarantor
    ({"phone": "call me"}, "phone"),
])
def test_relation_errors_are_field_errors_and_nothing_is_saved(client, world, overrides,
                                                               field):
    enterprise = world.enterprise()
    persons = Person.objects.count()
    response = _login(client, world).post(_relate_url(enterprise), _relation(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert Person.objects.count() == persons
    assert not Relationship.objects.filter(to_enterprise=enterprise,
                                           kind=RelationshipKind.SHAREHOLDER).exists()


def test_a_refused_edge_leaves_no_new_person_behind(client, world):
    enterprise = world.enterprise()
    _login(client, world)
    assert client.post(_relate_url(enterprise), _relation(stake_percent="70")).status_code == 302
    response = client.post(_relate_url(enterprise), _relation(name="赵六", stake_percent="40"))
    assert response.status_code == 400
    assert response.context["form"].errors["stake_percent"]  # 110 % in all
    assert not Person.objects.filter(name="赵六").exists()


def test_relations_of_another_branch_are_404_and_without_permission_403(client, world):
    south = world.enterprise(branch=world.south)
    north = world.enterprise()
    assert _login(client, world).get(_relate_url(south)).status_code == 404
    assert _login(client, world).post(_relate_url(south), _relation()).status_code == 404
    assert _login(client, world, "approver.north").post(
        _relate_url(north), _relation()).status_code == 403
    assert not Relationship.objects.filter(kind=RelationshipKind.SHAREHOLDER).exists()
