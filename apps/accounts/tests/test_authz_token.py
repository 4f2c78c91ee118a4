"""API calls with a token keep their rights in the cache under (person, authz_version), as a
session keeps them (apps.accounts.authz, issue #23 (5)): the reading is saved on every call
after the first, and a change is seen on the very next call."""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.services import user_roles_set
from apps.approvals.tests.factories import in_approval

# The tables the rights are read from: roles (groups), permissions, the branch subtree.
_RIGHTS = ('FROM "auth_group"', 'FROM "auth_permission"', 'FROM "org_branch"')


def _token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def _get(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_token_list_call_reads_the_rights_once_then_from_the_cache(world):
    in_approval(world)
    api = _token_client(world.user("approver.north"))
    first, cold = _get(api, "/api/v1/approvals/inbox/")
    second, warm = _get(api, "/api/v1/approvals/inbox/")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and second.json()["count"] == 1
    assert any(t in sql for sql in cold for t in _RIGHTS)
    assert not [sql for sql in warm if any(t in sql for t in _RIGHTS)]
    assert len(warm) < len(cold), (cold, warm)


def test_a_role_change_is_seen_on_the_next_token_call(world):
    in_approval(world)
    approver = world.user("approver.north")
    api = _token_client(approver)
    assert api.get("/api/v1/me/").json()["roles"] == [Role.APPROVER]
    assert api.get("/api/v1/approvals/inbox/").json()["count"] == 1

    user_roles_set(user=User.objects.get(pk=approver.pk), roles=[], actor=None)
    assert api.get("/api/v1/me/").json()["roles"] == []
    assert api.get("/api/v1/approvals/inbox/").json()["count"] == 0

    user_roles_set(user=User.objects.get(pk=approver.pk), roles=[Role.APPROVER], actor=None)
    assert api.get("/api/v1/me/").json()["roles"] == [Role.APPROVER]
    assert api.get("/api/v1/approvals/inbox/").json()["count"] == 1


def test_a_permission_taken_from_the_role_is_gone_on_the_next_token_call(world):
    approver = world.user("approver.north")
    api = _token_client(approver)
    api.get("/api/v1/me/")  # the rights are now in the cache
    Group.objects.get(name=Role.APPROVER).permissions.remove(
        Permission.objects.get(codename="view_branch"))
    response, queries = _get(api, "/api/v1/me/")
    assert response.status_code == 200
    assert any('FROM "auth_permission"' in sql for sql in queries)  # read again, not served
    from apps.accounts.authz import authz_prime_cached

    assert not authz_prime_cached(User.objects.get(pk=approver.pk)).has_perm("org.view_branch")


def test_cached_rights_are_never_lent_to_another_person(world):
    approver, manager = world.user("approver.north"), world.user("am.north")
    assert _token_client(approver).get("/api/v1/me/").json()["roles"] == [Role.APPROVER]
    assert Role.APPROVER not in _token_client(manager).get("/api/v1/me/").json()["roles"]
