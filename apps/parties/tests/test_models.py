import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.parties.models import Relationship, RelationshipKind, SizeStandard, resident_id_hash
from apps.parties.money import Money
from apps.parties.tests.factories import EnterpriseFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_the_2011_standard_is_seeded_as_policy_data():
    rows = SizeStandard.objects.filter(version="CN-MIIT-2011-300")
    assert rows.count() == 16
    industry = rows.get(row_no=2)
    assert (industry.industry_scope, industry.metric_a, industry.metric_b) == (
        ["B", "C", "D"], "employees", "revenue")
    assert (industry.ceiling_a, industry.ceiling_b) == (Decimal(1000), Decimal(40000))
    assert rows.get(row_no=16).evidence == "M"
    assert {r.evidence for r in rows.exclude(row_no=16)} == {"V"}
    assert all(r.source_citation and r.effective_from == dt.date(2011, 6, 18) for r in rows)
    for row in rows:
        row.full_clean()


def test_size_standard_clean_refuses_half_a_second_metric():
    row = SizeStandard.objects.get(row_no=2)
    row.ceiling_b = None
    with pytest.raises(ValidationError):
        row.full_clean()


def test_person_save_stores_the_keyed_hash_and_capital_x():
    person = PersonFactory(resident_id="11010519491231002x")
    assert person.resident_id == "11010519491231002X"
    assert person.resident_id_hash == resident_id_hash("11010519491231002X")
    assert len(person.resident_id_hash) == 64 and "1101051949" not in person.resident_id_hash
    assert person.masked_resident_id == "110105********002X"
    assert "1949" not in str(person)


def test_enterprise_validators_refuse_a_mistyped_uscc():
    enterprise = EnterpriseFactory()
    enterprise.uscc = "91350100M000100Y44"  # the published sample with its last char changed
    with pytest.raises(ValidationError) as error:
        enterprise.full_clean()
    assert "uscc" in error.value.message_dict


def test_industry_code_must_sit_in_its_section():
    enterprise = EnterpriseFactory(industry="F", industry_code="52")
    enterprise.full_clean()
    enterprise.industry_code = "13"
    with pytest.raises(ValidationError) as error:
        enterprise.full_clean()
    assert "industry_code" in error.value.message_dict


def test_money_fields_refuse_floats():
    enterprise = EnterpriseFactory()
    enterprise.annual_revenue = 0.1 + 0.2
    with pytest.raises(TypeError):
        enterprise.save()
    with pytest.raises(TypeError):
        Money(0.3)
    assert Money(Decimal("12345.60")).in_wan() == Decimal("1.23456")
    assert str(Money(Decimal("1234.5"))) == "CNY 1,234.50"


def test_coordinates_come_in_pairs():
    enterprise = EnterpriseFactory()
    enterprise.operating_lat = Decimal("30.25")
    with pytest.raises(IntegrityError), transaction.atomic():
        enterprise.save()


@pytest.mark.parametrize("edge", [
    # stake on a non-shareholder, and a shareholder without one
    {"kind": RelationshipKind.GUARANTOR, "stake_percent": Decimal(10)},
    {"kind": RelationshipKind.SHAREHOLDER},
    {"kind": RelationshipKind.SHAREHOLDER, "stake_percent": Decimal("100.01")},
    # a person target is for spouses only
    {"kind": RelationshipKind.GUARANTOR, "to": "person"},
    # a spouse of an enterprise
    {"kind": RelationshipKind.SPOUSE_OF},
])
def test_database_constraints_refuse_impossible_edges(edge):
    person, other, enterprise = PersonFactory(), PersonFactory(), EnterpriseFactory()
    target = {"to_person": other} if edge.pop("to", None) == "person" else {
        "to_enterprise": enterprise}
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(from_person=person, **target, **edge)


def test_legal_representative_is_a_person_and_edges_have_one_source():
    a, b, person = EnterpriseFactory(), EnterpriseFactory(), PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(kind=RelationshipKind.LEGAL_REPRESENTATIVE,
                                    from_enterprise=a, to_enterprise=b)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_enterprise=a,
                                    from_person=person, to_enterprise=b)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                    from_enterprise=a, to_enterprise=a)


def test_the_same_edge_cannot_be_recorded_twice():
    person, enterprise = PersonFactory(), EnterpriseFactory()
    Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_person=person,
                                to_enterprise=enterprise)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_person=person,
                                    to_enterprise=enterprise)
