"""The page for a party's other names and bank accounts (issue 19: the statement check matches
counterparties to the party graph by them): listed for those who may see the customer, recorded
by account managers and risk reviewers through the service (permission, branch, audit), accounts
masked for the others, other branches 404."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.parties.models import PartyAlias, Relationship, RelationshipKind
from apps.parties.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _page(enterprise):
    return reverse("parties:party-aliases", args=[enterprise.pk])


def _login(client, world, username):
    client.force_login(world.user(username))
    return client


@pytest.fixture
def firm(world):
    enterprise = world.enterprise(name="南海宏图物流（集团）有限公司")
    controller = PersonFactory(name="陈志强")
    Relationship.objects.create(kind=RelationshipKind.ACTUAL_CONTROLLER, from_person=controller,
                                to_enterprise=enterprise)
    return enterprise, controller


def test_an_account_manager_records_a_trade_name_audited_and_listed(client, world, firm):
    enterprise, _controller = firm
    client = _login(client, world, "am.north")
    detail = client.get(reverse("parties:enterprise-detail", args=[enterprise.pk]))
    assert _page(enterprise) in detail.content.decode()
    response = client.post(_page(enterprise), {
        "party": f"enterprise:{enterprise.pk}", "kind": "name", "value": "宏图物流",
        "source": "增值税发票抬头"})
    assert response.status_code == 302 and response["Location"] == _page(enterprise)
    alias = PartyAlias.objects.get(enterprise=enterprise)
    assert (alias.kind, alias.value, alias.source) == ("name", "宏图物流", "增值税发票抬头")
    event = AuditEvent.objects.get(action="party_alias.added", subject_id=str(alias.pk))
    assert event.actor == world.user("am.north")
    assert event.enterprise_id == enterprise.pk and event.branch_id == enterprise.branch_id
    html = client.get(_page(enterprise)).content.decode()
    assert "宏图物流" in html and "增值税发票抬头" in html


def test_a_reviewer_records_the_controllers_account_masked_for_view_only_roles(client, world,
                                                                               firm):
    enterprise, controller = firm
    response = _login(client, world, "reviewer.north").post(_page(enterprise), {
        "party": f"person:{controller.pk}", "kind": "account", "value": "6222 0210 0112 3456",
        "source": "开户行查询"})
    assert response.status_code == 302
    alias = PartyAlias.objects.get(person=controller)
    assert alias.normalised == "6222021001123456"
    event = AuditEvent.objects.get(action="party_alias.added", subject_id=str(alias.pk))
    assert event.payload["value"] == "****3456"  # the trail masks accounts
    assert "6222 0210 0112 3456" in client.get(_page(enterprise)).content.decode()

    approver = _login(client, world, "approver.north")
    html = approver.get(_page(enterprise)).content.decode()
    assert "****3456" in html and "6222 0210" not in html
    assert 'id="alias-form"' not in html  # may see, may not record
    refused = approver.post(_page(enterprise), {
        "party": f"enterprise:{enterprise.pk}", "kind": "name", "value": "宏图",
        "source": ""})
    assert refused.status_code == 403
    assert PartyAlias.objects.count() == 1


def test_a_duplicate_or_a_person_not_around_the_enterprise_is_refused(client, world, firm):
    enterprise, _controller = firm
    client = _login(client, world, "am.north")
    data = {"party": f"enterprise:{enterprise.pk}", "kind": "name", "value": "宏图 物流",
            "source": ""}
    assert client.post(_page(enterprise), data).status_code == 302
    again = client.post(_page(enterprise), {**data, "value": "宏图物流"})  # same once compared
    assert again.status_code == 400
    assert "already recorded" in again.content.decode()
    stranger = PersonFactory(name="王五")
    tampered = client.post(_page(enterprise), {**data, "party": f"person:{stranger.pk}",
                                               "value": "王五的店"})
    assert tampered.status_code == 400
    assert PartyAlias.objects.count() == 1
    assert AuditEvent.objects.filter(action="party_alias.added").count() == 1


def test_another_branchs_customer_is_not_found(client, world):
    south = world.enterprise(name="南方食品有限公司", branch=world.south)
    client = _login(client, world, "am.north")
    assert client.get(_page(south)).status_code == 404
    response = client.post(_page(south), {"party": f"enterprise:{south.pk}", "kind": "name",
                                          "value": "南方食品", "source": ""})
    assert response.status_code == 404
    assert not PartyAlias.objects.exists()
