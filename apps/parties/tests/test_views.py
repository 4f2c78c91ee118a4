import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from apps.parties.models import Relationship, RelationshipKind
from apps.parties.tests.factories import EnterpriseFactory, PersonFactory, make_resident_id

pytestmark = pytest.mark.django_db


def _login(client, world, username):
    client.force_login(world.user(username))
    return client


def test_customers_of_my_branch_only(client, world):
    north = world.enterprise(name="北方五金有限公司")
    south = world.enterprise(name="南方食品有限公司", branch=world.south)
    html = _login(client, world, "am.north").get(reverse("parties:enterprise-list")).content
    assert north.name in html.decode()
    assert south.name not in html.decode()


def test_search_by_name_or_code_start(client, world):
    hit = world.enterprise(name="恒信五金有限公司")
    miss = world.enterprise(name="瑞丰食品有限公司")
    _login(client, world, "am.north")

    by_name = client.get(reverse("parties:enterprise-list"), {"q": "五金"})
    by_code = client.get(reverse("parties:enterprise-list"), {"q": hit.uscc[:17].lower()})

    for response in (by_name, by_code):
        names = [e.name for e in response.context["page"].object_list]
        assert hit.name in names and miss.name not in names


def test_htmx_search_answers_with_the_results_only(client, world):
    world.enterprise(name="恒信五金有限公司")
    response = _login(client, world, "am.north").get(
        reverse("parties:enterprise-list"), {"q": "五金"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "恒信五金有限公司" in html
    assert "<html" not in html


def test_the_customer_list_paginates_by_25(client, world):
    EnterpriseFactory.create_batch(26, branch=world.north)
    _login(client, world, "am.north")
    assert len(client.get(reverse("parties:enterprise-list")).context["page"].object_list) == 25
    second = client.get(reverse("parties:enterprise-list"), {"page": 2})
    assert len(second.context["page"].object_list) == 1


def test_customer_list_queries_do_not_grow_with_rows(client, world,
                                                     django_assert_max_num_queries):
    EnterpriseFactory.create_batch(5, branch=world.north)
    _login(client, world, "am.north")
    client.get(reverse("parties:enterprise-list"))  # warm the caches

    with CaptureQueriesContext(connection) as five:
        client.get(reverse("parties:enterprise-list"))
    EnterpriseFactory.create_batch(25, branch=world.north)
    with django_assert_max_num_queries(len(five)):
        response = client.get(reverse("parties:enterprise-list"))
    assert len(response.context["page"].object_list) == 25


def test_another_branchs_customer_is_not_found(client, world):
    south = world.enterprise(branch=world.south)
    response = _login(client, world, "am.north").get(
        reverse("parties:enterprise-detail", args=[south.pk]))
    assert response.status_code == 404


def _with_relations(world):
    enterprise = world.enterprise(name="恒信五金有限公司")
    guarantor = PersonFactory(name="李保", resident_id=make_resident_id(born="19700101"))
    Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_person=guarantor,
                                to_enterprise=enterprise)
    owner = world.enterprise(name="恒信控股有限公司", branch=world.south)
    Relationship.objects.create(kind=RelationshipKind.SHAREHOLDER, from_enterprise=owner,
                                to_enterprise=enterprise, stake_percent="60")
    return enterprise, guarantor, owner


def test_enterprise_page_gathers_profile_relations_and_applications(client, world):
    enterprise, guarantor, owner = _with_relations(world)
    application = world.draft(enterprise=enterprise)

    response = _login(client, world, "am.north").get(
        reverse("parties:enterprise-detail", args=[enterprise.pk]))

    html = response.content.decode()
    assert enterprise.uscc in html
    assert enterprise.get_size_class_display() in html
    assert guarantor.resident_id in html  # account managers may see full ID numbers
    assert owner.name in html
    # The owner is another branch's customer: named, but not linked (it would be a 404).
    assert reverse("parties:enterprise-detail", args=[owner.pk]) not in html
    assert application.reference in html
    assert f"{reverse('applications:new')}?enterprise={enterprise.pk}" in html


def test_resident_ids_are_masked_without_the_permission(client, world):
    enterprise, guarantor, _owner = _with_relations(world)
    html = _login(client, world, "approver.north").get(
        reverse("parties:enterprise-detail", args=[enterprise.pk])).content.decode()
    assert guarantor.resident_id not in html
    assert guarantor.masked_resident_id in html
    assert "New application" not in html  # approvers do not open applications


def test_eligibility_lists_every_failed_condition_in_the_current_language(client, world):
    enterprise = world.enterprise(tax_credit_rating="D", annual_revenue="10")
    _login(client, world, "am.north")

    response = client.get(reverse("parties:enterprise-detail", args=[enterprise.pk]))
    section = next(s for s in response.context["sections"] if s["key"] == "applications")
    rows = {row["product"].code: row for row in section["data"]["eligibility"]}
    failed = {f["code"]: f["reason"] for f in rows["tax-credit-loan"]["failures"]}
    assert set(failed) == {"tax-rating", "revenue-band"}
    assert failed["tax-rating"] == "Tax credit rating A, B or M"

    with translation.override("zh-hans"):
        zh = client.get(reverse("parties:enterprise-detail", args=[enterprise.pk]),
                        HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "纳税信用等级为A、B或M级" in zh


def test_customers_is_in_the_menu_and_marked_current_on_a_customer_page(client, world):
    enterprise = world.enterprise()
    html = _login(client, world, "am.north").get(
        reverse("parties:enterprise-detail", args=[enterprise.pk])).content.decode()
    assert f'href="{reverse("parties:enterprise-list")}" aria-current="page"' in html
