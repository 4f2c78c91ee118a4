from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.parties.models import Person, RelationshipKind
from apps.parties.services import (
    enterprise_create,
    enterprise_update,
    person_create,
    relationship_add,
)
from apps.parties.tests.factories import (
    BranchFactory,
    EnterpriseFactory,
    PersonFactory,
    make_resident_id,
    make_uscc,
    make_user,
)

pytestmark = pytest.mark.django_db


def _create(**overrides):
    data = {"actor": None, "name": "杭州恒信精密五金有限公司", "uscc": make_uscc(),
            "industry": "C", "industry_code": "33", "branch": BranchFactory(code="north"),
            "employees": 50, "annual_revenue": Decimal("15000000.00"),
            "total_assets": Decimal("8000000")}
    return enterprise_create(**{**data, **overrides})


def test_create_computes_the_size_class_and_audits():
    enterprise = _create()
    # 50 employees, revenue 1500 万元: small industrial firm (§5.5 test case).
    assert enterprise.size_class == "small"
    assert enterprise.size_standard_version == "CN-MIIT-2011-300"
    assert "row 2 工业" in enterprise.size_explanation
    assert enterprise.size_classified_on is not None
    event = AuditEvent.objects.get(action="enterprise.created")
    assert (event.subject_id, event.branch_id) == (str(enterprise.pk), enterprise.branch_id)
    assert event.payload["size_class"] == "small"
    assert event.payload["uscc"] == enterprise.uscc


def test_create_normalises_the_code_and_refuses_a_mistyped_one():
    code = make_uscc()
    assert _create(uscc=code.lower()).uscc == code
    with pytest.raises(ValidationError) as error:
        _create(uscc=code[:17] + ("0" if code[17] != "0" else "1"))
    assert "uscc" in error.value.message_dict
    assert AuditEvent.objects.filter(action="enterprise.created").count() == 1


def test_create_refuses_a_duplicate_code_and_floats():
    code = make_uscc()
    _create(uscc=code)
    with pytest.raises(ValidationError):
        _create(uscc=code)
    with pytest.raises(ValidationError):
        _create(annual_revenue=1500.5)


def test_enterprise_in_foreign_currency_stays_unclassified():
    enterprise = _create(financials_currency="USD")
    assert enterprise.size_class == ""
    assert "USD" in enterprise.size_explanation


def test_a_user_needs_the_permission_and_the_branch():
    north, south = BranchFactory(code="north"), BranchFactory(code="south")
    no_perm = make_user("am1", branch=north)
    with pytest.raises(PermissionDenied):
        _create(actor=no_perm, branch=north)
    officer = make_user("am2", branch=north, perms=["parties.add_enterprise"])
    with pytest.raises(PermissionDenied):
        _create(actor=officer, branch=south)
    enterprise = _create(actor=officer, branch=north)
    assert AuditEvent.objects.get(action="enterprise.created").actor_id == officer.pk
    assert enterprise.branch == north


def test_update_records_old_and_new_values_and_reclassifies():
    enterprise = _create()
    updated = enterprise_update(actor=None, enterprise_id=enterprise.pk, employees=15,
                                annual_revenue=Decimal("50000000"), name="新名称有限公司")
    assert updated.size_class == "micro"  # 15 employees: "either below" (§5.5)
    event = AuditEvent.objects.get(action="enterprise.updated")
    changes = event.payload["changes"]
    assert changes["employees"] == {"old": 50, "new": 15}
    assert changes["annual_revenue"] == {"old": "15000000.00", "new": "50000000"}
    assert changes["size_class"] == {"old": "small", "new": "micro"}
    assert changes["name"]["new"] == "新名称有限公司"


def test_update_without_changes_writes_nothing():
    enterprise = _create()
    enterprise_update(actor=None, enterprise_id=enterprise.pk, employees=50)
    assert not AuditEvent.objects.filter(action="enterprise.updated").exists()


def test_update_refuses_derived_fields():
    enterprise = _create()
    with pytest.raises(ValidationError):
        enterprise_update(actor=None, enterprise_id=enterprise.pk, size_class="large")


def test_moving_a_customer_needs_both_branches():
    north, south = BranchFactory(code="north"), BranchFactory(code="south")
    enterprise = _create(branch=north)
    officer = make_user("am", branch=north, perms=["parties.change_enterprise"])
    with pytest.raises(PermissionDenied):
        enterprise_update(actor=officer, enterprise_id=enterprise.pk, branch=south)
    moved = enterprise_update(actor=None, enterprise_id=enterprise.pk, branch=south)
    assert moved.branch == south
    changes = AuditEvent.objects.get(action="enterprise.updated").payload["changes"]
    assert changes["branch"] == {"old": "north", "new": "south"}


def test_person_create_keeps_only_the_masked_number_in_the_trail():
    person = person_create(actor=None, name="王伟", resident_id="11010519491231002x",
                           phone="13800138000")
    assert person.resident_id == "11010519491231002X"
    event = AuditEvent.objects.get(action="person.created")
    assert event.payload == {"name": "王伟", "resident_id": "110105********002X"}
    assert "19491231" not in str(event.payload)
    with pytest.raises(ValidationError):
        person_create(actor=None, name="王伟2", resident_id="11010519491231002X")
    with pytest.raises(ValidationError):
        person_create(actor=None, name="x", resident_id="110105194912310021")
    assert Person.objects.count() == 1


def test_relationship_add_audits_the_edge():
    person, enterprise = PersonFactory(), EnterpriseFactory()
    edge = relationship_add(actor=None, kind=RelationshipKind.SHAREHOLDER, from_person=person,
                            to_enterprise=enterprise, stake_percent=Decimal("60"))
    event = AuditEvent.objects.get(action="relationship.added")
    assert event.subject_id == str(edge.pk)
    assert event.branch_id == enterprise.branch_id
    assert event.payload["kind"] == "shareholder"
    assert event.payload["stake_percent"] == "60"
    assert event.payload["from"] == {"type": "person", "id": person.pk, "name": person.name}


def test_stakes_may_not_exceed_100_percent():
    enterprise = EnterpriseFactory()
    relationship_add(actor=None, kind=RelationshipKind.SHAREHOLDER,
                     from_person=PersonFactory(), to_enterprise=enterprise, stake_percent="70")
    relationship_add(actor=None, kind=RelationshipKind.SHAREHOLDER,
                     from_enterprise=EnterpriseFactory(), to_enterprise=enterprise,
                     stake_percent="30")
    with pytest.raises(ValidationError) as error:
        relationship_add(actor=None, kind=RelationshipKind.SHAREHOLDER,
                         from_person=PersonFactory(), to_enterprise=enterprise,
                         stake_percent="0.01")
    assert "stake_percent" in error.value.message_dict


@pytest.mark.parametrize("edge", [
    {"kind": RelationshipKind.SHAREHOLDER},                          # no stake
    {"kind": RelationshipKind.GUARANTOR, "stake_percent": "5"},      # stake on a guarantor
    {"kind": RelationshipKind.LEGAL_REPRESENTATIVE, "by": "enterprise"},
    {"kind": RelationshipKind.RELATED_ENTERPRISE},                   # person as related firm
])
def test_relationship_add_refuses_impossible_edges_readably(edge):
    source = ({"from_enterprise": EnterpriseFactory()} if edge.pop("by", None) == "enterprise"
              else {"from_person": PersonFactory()})
    with pytest.raises(ValidationError):
        relationship_add(actor=None, to_enterprise=EnterpriseFactory(), **source, **edge)
    assert not AuditEvent.objects.filter(action="relationship.added").exists()


def test_spouses_are_recorded_once_whichever_way_round():
    a, b = PersonFactory(), PersonFactory(resident_id=make_resident_id(born="19820202"))
    relationship_add(actor=None, kind=RelationshipKind.SPOUSE_OF, from_person=a, to_person=b)
    with pytest.raises(ValidationError):
        relationship_add(actor=None, kind=RelationshipKind.SPOUSE_OF, from_person=b,
                         to_person=a)
    with pytest.raises(ValidationError):
        relationship_add(actor=None, kind=RelationshipKind.SPOUSE_OF, from_person=a,
                         to_person=b)


def test_relationship_add_checks_the_actor_sees_both_firms():
    north, south = BranchFactory(code="north"), BranchFactory(code="south")
    officer = make_user("am", branch=north, perms=["parties.add_relationship"])
    with pytest.raises(PermissionDenied):
        relationship_add(actor=officer, kind=RelationshipKind.GUARANTOR,
                         from_enterprise=EnterpriseFactory(branch=south),
                         to_enterprise=EnterpriseFactory(branch=north))
