import datetime as dt

import pytest
from django.http import Http404

from apps.accounts.roles import Role
from apps.parties.models import Relationship, RelationshipKind, SizeStandard
from apps.parties.selectors import (
    enterprise_get,
    enterprise_group_ids,
    enterprise_list,
    person_find,
    person_id_display,
    relationship_list,
    size_standard_rules,
)
from apps.parties.size import SizeStandardError
from apps.parties.tests.factories import (
    BranchFactory,
    EnterpriseFactory,
    PersonFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    hq = BranchFactory(code="hq")
    north = BranchFactory(code="north", parent=hq)
    sub = BranchFactory(code="north-sub", parent=north)
    south = BranchFactory(code="south", parent=hq)
    return {"hq": hq, "north": north, "sub": sub, "south": south}


def test_list_is_scoped_to_the_viewers_branch_subtree(tree):
    mine = EnterpriseFactory(branch=tree["north"])
    below = EnterpriseFactory(branch=tree["sub"])
    EnterpriseFactory(branch=tree["south"])
    officer = make_user("am", branch=tree["north"])
    assert set(enterprise_list(viewer=officer)) == {mine, below}
    auditor = make_user("aud", branch=tree["south"], roles=[Role.AUDITOR])
    assert enterprise_list(viewer=auditor).count() == 3
    assert enterprise_list(viewer=make_user("nobody")).count() == 0


def test_search_by_name_or_code_prefix(tree):
    a = EnterpriseFactory(branch=tree["north"], name="杭州瑞丰商贸有限公司")
    b = EnterpriseFactory(branch=tree["north"], name="南京华联超市有限公司")
    viewer = make_user("am", branch=tree["north"])
    assert list(enterprise_list(viewer=viewer, search="瑞丰")) == [a]
    assert list(enterprise_list(viewer=viewer, search=b.uscc[:17].lower())) == [b]
    assert list(enterprise_list(viewer=viewer, search="  ")) == [b, a]


def test_list_query_count_does_not_grow(tree, django_assert_num_queries):
    for _ in range(5):
        EnterpriseFactory(branch=tree["north"])
    viewer = make_user("am", branch=tree["north"])
    viewer.roles  # noqa: B018  (load roles before counting: cached per request)
    # branch subtree (one query per level), then the list joined to its branches (§8: <= 3)
    with django_assert_num_queries(3):
        rows = list(enterprise_list(viewer=viewer))
        assert [r.branch.code for r in rows] == ["north"] * 5


def test_get_answers_404_for_another_branch(tree):
    theirs = EnterpriseFactory(branch=tree["south"])
    viewer = make_user("am", branch=tree["north"])
    with pytest.raises(Http404):
        enterprise_get(viewer=viewer, enterprise_id=theirs.pk)
    with pytest.raises(Http404):
        enterprise_get(viewer=viewer, enterprise_id=999999)
    with pytest.raises(Http404):
        relationship_list(viewer=viewer, enterprise_id=theirs.pk)
    owner = make_user("am2", branch=tree["south"])
    assert enterprise_get(viewer=owner, enterprise_id=theirs.pk) == theirs


def test_group_is_the_firm_plus_firms_one_step_away():
    core, parent, affiliate, sibling, guarantor, far = (EnterpriseFactory() for _ in range(6))
    owner = PersonFactory()
    Relationship.objects.create(kind=RelationshipKind.SHAREHOLDER, from_enterprise=parent,
                                to_enterprise=core, stake_percent=40)
    Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                from_enterprise=core, to_enterprise=affiliate)
    # same actual controller: a sibling under one owner
    Relationship.objects.create(kind=RelationshipKind.ACTUAL_CONTROLLER, from_person=owner,
                                to_enterprise=core)
    Relationship.objects.create(kind=RelationshipKind.ACTUAL_CONTROLLER, from_person=owner,
                                to_enterprise=sibling)
    # a guarantee is not control; two steps away is out of scope for now
    Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_enterprise=guarantor,
                                to_enterprise=core)
    Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                from_enterprise=affiliate, to_enterprise=far)
    expected = {core.pk, parent.pk, affiliate.pk, sibling.pk}
    assert enterprise_group_ids(enterprise_id=core.pk) == expected
    assert enterprise_group_ids(enterprise_id=far.pk) == {far.pk, affiliate.pk}
    assert guarantor.pk in enterprise_group_ids(
        enterprise_id=core.pk, kinds={RelationshipKind.GUARANTOR})


def test_relationship_list_covers_both_directions(tree):
    core, other = EnterpriseFactory(branch=tree["north"]), EnterpriseFactory()
    a = Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_enterprise=core,
                                    to_enterprise=other)
    b = Relationship.objects.create(kind=RelationshipKind.LEGAL_REPRESENTATIVE,
                                    from_person=PersonFactory(), to_enterprise=core)
    viewer = make_user("am", branch=tree["north"])
    assert set(relationship_list(viewer=viewer, enterprise_id=core.pk)) == {a, b}


def test_full_id_only_with_the_permission():
    person = PersonFactory(resident_id="11010519491231002X")
    assert person_find(resident_id="11010519491231002x") == person
    assert person_id_display(viewer=make_user("am"), person=person) == "110105********002X"
    reviewer = make_user("rev", perms=["parties.view_full_resident_id"])
    assert person_id_display(viewer=reviewer, person=person) == "11010519491231002X"


def _copy_version(version, effective_from, effective_to=None):
    for row in SizeStandard.objects.filter(version="CN-MIIT-2011-300"):
        row.pk, row.version = None, version
        row.effective_from, row.effective_to = effective_from, effective_to
        row.save()


def test_rules_in_force_follow_effective_dates():
    assert {r.version for r in size_standard_rules()} == {"CN-MIIT-2011-300"}
    assert size_standard_rules(on=dt.date(2010, 1, 1)) == []
    SizeStandard.objects.filter(version="CN-MIIT-2011-300").update(
        effective_to=dt.date(2030, 1, 1))
    _copy_version("NEXT", dt.date(2030, 1, 1))
    assert {r.version for r in size_standard_rules(on=dt.date(2029, 12, 31))} == {
        "CN-MIIT-2011-300"}
    assert {r.version for r in size_standard_rules(on=dt.date(2030, 1, 1))} == {"NEXT"}


def test_two_versions_in_force_at_once_is_a_policy_error():
    _copy_version("OVERLAP", dt.date(2020, 1, 1))
    with pytest.raises(SizeStandardError):
        size_standard_rules(on=dt.date(2021, 1, 1))
