"""Roles, permissions and the branch subtree are read once per session and kept until they
change (apps.accounts.authz, issue #23 (5)): every change takes effect on the next request."""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.authz import SESSION_KEY, authz_prime
from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.services import user_roles_set
from apps.approvals.tests.factories import in_approval
from apps.org.services import branch_create


def _inbox(client):
    return client.get(reverse("approvals:inbox"))


def test_revoking_a_role_takes_effect_on_the_next_request(world, client):
    in_approval(world)
    approver = world.user("approver.north")
    client.force_login(approver)
    assert _inbox(client).status_code == 200
    assert client.session[SESSION_KEY]["roles"] == [Role.APPROVER]
    with CaptureQueriesContext(connection) as kept:
        assert _inbox(client).status_code == 200
    assert not any('FROM "auth_group"' in q["sql"] for q in kept.captured_queries)

    user_roles_set(user=User.objects.get(pk=approver.pk), roles=[], actor=None)
    assert _inbox(client).status_code == 403  # the very next request, same session
    user_roles_set(user=User.objects.get(pk=approver.pk), roles=[Role.APPROVER], actor=None)
    assert _inbox(client).status_code == 200


def test_removing_a_role_from_the_group_side_also_counts(world, client):
    approver = world.user("approver.north")
    client.force_login(approver)
    assert _inbox(client).status_code == 200
    Group.objects.get(name=Role.APPROVER).user_set.remove(approver)
    assert _inbox(client).status_code == 403


def _request_user(rf, session, pk):
    """What a request in this session gets: the user row read afresh, rights from the session."""
    request = rf.get("/")
    request.session = session
    return authz_prime(request, User.objects.get(pk=pk))


def test_a_permission_taken_from_the_role_is_gone_on_the_next_request(world, rf, client):
    approver = world.user("approver.north")
    client.force_login(approver)
    session = client.session
    assert _request_user(rf, session, approver.pk).has_perm("org.view_branch")
    group = Group.objects.get(name=Role.APPROVER)
    group.permissions.remove(Permission.objects.get(codename="view_branch"))
    assert not _request_user(rf, session, approver.pk).has_perm("org.view_branch")
    # and one given to the person directly appears
    approver.user_permissions.add(Permission.objects.get(codename="view_branch"))
    assert _request_user(rf, session, approver.pk).has_perm("org.view_branch")


def test_a_new_sub_branch_and_a_move_change_the_subtree_on_the_next_request(world, rf, client):
    from apps.accounts.selectors import visible_branch_ids

    approver = world.user("approver.north")
    client.force_login(approver)
    session = client.session
    before = visible_branch_ids(viewer=_request_user(rf, session, approver.pk))
    sub = branch_create(code="north-sub", name="North sub-branch", parent=approver.branch)
    after = visible_branch_ids(viewer=_request_user(rf, session, approver.pk))
    assert after == before | {sub.pk}
    moved = User.objects.get(pk=approver.pk)
    moved.branch = sub
    moved.save()
    assert visible_branch_ids(viewer=_request_user(rf, session, approver.pk)) == {sub.pk}


def test_a_stale_copy_saved_back_does_not_revive_revoked_rights(world, rf, client):
    approver = world.user("approver.north")
    client.force_login(approver)
    session = client.session
    stale = User.objects.get(pk=approver.pk)
    assert _request_user(rf, session, approver.pk).has_role(Role.APPROVER)
    approver.groups.clear()
    stale.first_name = "Renamed"
    stale.save()  # an instance read before the revocation, saved after it
    assert not _request_user(rf, session, approver.pk).has_role(Role.APPROVER)
    assert User.objects.get(pk=approver.pk).first_name == "Renamed"


def test_rights_kept_for_one_person_are_never_lent_to_another(world, rf, client):
    approver, manager = world.user("approver.north"), world.user("am.north")
    client.force_login(approver)
    session = client.session
    assert _request_user(rf, session, approver.pk).has_role(Role.APPROVER)
    other = _request_user(rf, session, manager.pk)  # same session, another user row
    assert other.roles == manager.roles and not other.has_role(Role.APPROVER)
