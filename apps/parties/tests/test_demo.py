import pytest

from apps.audit.services import audit_chain_verify
from apps.parties.demo import DEMO_ENTERPRISE_COUNT, organization_code, seed_demo_enterprises
from apps.parties.models import Enterprise, Person, Relationship, RelationshipKind
from apps.parties.selectors import enterprise_group_ids
from apps.parties.tests.factories import BranchFactory
from apps.parties.validators import is_valid_resident_id, is_valid_uscc

pytestmark = pytest.mark.django_db


def test_organization_code_check_matches_published_codes():
    # Positions 9-17 of Huawei's and Tencent's codes (GB 11714 check character).
    assert organization_code("19220382") == "192203821"
    assert organization_code("70846113") == "708461136"


def test_seed_creates_a_varied_valid_portfolio_and_is_idempotent():
    branches = [BranchFactory(code="north"), BranchFactory(code="south")]
    created = seed_demo_enterprises(branches)
    assert created["enterprises"] == DEMO_ENTERPRISE_COUNT
    enterprises = list(Enterprise.objects.all())
    assert all(is_valid_uscc(e.uscc) for e in enterprises)
    assert all(is_valid_resident_id(p.resident_id) for p in Person.objects.all())
    assert {e.size_class for e in enterprises} == {"micro", "small", "medium", "large"}
    assert len({e.industry for e in enterprises}) >= 10
    assert {e.branch.code for e in enterprises} == {"north", "south"}
    kinds = set(Relationship.objects.values_list("kind", flat=True))
    assert kinds == set(RelationshipKind.values)
    assert Relationship.objects.filter(kind=RelationshipKind.GUARANTOR,
                                       from_enterprise__isnull=False).count() >= 5
    assert any(len(enterprise_group_ids(enterprise_id=e.pk)) > 1 for e in enterprises)

    counts = (Enterprise.objects.count(), Person.objects.count(), Relationship.objects.count())
    again = seed_demo_enterprises({"south": branches[1], "north": branches[0]})
    assert again == {"enterprises": 0, "persons": 0, "relationships": 0}
    assert (Enterprise.objects.count(), Person.objects.count(),
            Relationship.objects.count()) == counts
    assert audit_chain_verify().ok
