import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import User
from apps.accounts.roles import ROLE_PERMISSIONS, Role
from apps.accounts.selectors import user_list, visible_branch_ids
from apps.accounts.services import user_create, user_roles_set
from apps.audit.models import AuditEvent
from apps.demo.seed import seed_demo
from apps.org.models import Branch
from apps.org.services import branch_create

pytestmark = pytest.mark.django_db


def test_every_role_has_a_group_with_its_permissions():
    for role in Role:
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == ROLE_PERMISSIONS[role]


def test_auditor_may_view_and_export_but_never_change_audit_events():
    seed_demo()
    auditor = User.objects.get(username="auditor.north")
    assert auditor.has_perm("audit.view_auditevent")
    assert auditor.has_perm("audit.export_auditevent")
    assert not auditor.has_perm("audit.change_auditevent")
    assert not auditor.has_perm("audit.delete_auditevent")


def test_branch_scope_covers_sub_branches_only():
    head = branch_create(code="hq", name="HQ")
    north = branch_create(code="n", name="North", parent=head)
    sub = branch_create(code="n1", name="North 1", parent=north)
    branch_create(code="s", name="South", parent=head)
    officer = user_create(username="am", password=None, branch=north,
                          roles=[Role.ACCOUNT_MANAGER])
    assert visible_branch_ids(viewer=officer) == {north.pk, sub.pk}


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_bank_wide_roles_see_every_branch(role):
    branch = branch_create(code="n", name="North")
    user = user_create(username="u", password=None, branch=branch, roles=[role])
    assert visible_branch_ids(viewer=user) is None


def test_staff_without_branch_see_nothing():
    user = user_create(username="floating", password=None, roles=[Role.RISK_REVIEWER])
    assert visible_branch_ids(viewer=user) == set()


def test_user_list_is_scoped_by_branch():
    seed_demo()
    lead = User.objects.get(username="lead.north")
    names = set(user_list(viewer=lead).values_list("username", flat=True))
    assert "am.north" in names and "am.south" not in names
    auditor = User.objects.get(username="auditor.south")
    assert "am.north" in set(user_list(viewer=auditor).values_list("username", flat=True))


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="Unknown roles"):
        user_create(username="x", password=None, roles=["superhero"])


def test_role_changes_are_audited_with_old_and_new():
    user = user_create(username="u", password=None, roles=[Role.ACCOUNT_MANAGER])
    user_roles_set(user=user, roles=[Role.TEAM_LEAD, Role.ACCOUNT_MANAGER])
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.payload == {"old": ["account_manager"], "new": ["account_manager", "team_lead"]}


def test_seed_demo_is_idempotent_and_covers_every_role_per_branch():
    first = seed_demo()
    second = seed_demo()
    assert first["users"] == 2 * len(Role) and second == {"branches": 0, "users": 0}
    for branch in Branch.objects.filter(code__in=["north", "south"]):
        held = {role for user in branch.staff.all() for role in user.roles}
        assert held == set(Role.values)
