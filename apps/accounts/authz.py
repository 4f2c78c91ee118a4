"""What a signed-in person may do, read once and kept in their session until it changes.

Every page checks roles (groups), permissions and the branch subtree on the server; reading
them cost four queries per request (roles, two permission queries, the subtree's levels). They
are kept in the session (server-side, loaded anyway) with the person's `authz_version`, which
is on the user row every request reads anyway. Whatever changes them raises that version in
the same transaction (the receivers below): a role granted or revoked, a permission of the
person or of one of their roles, a role renamed or deleted, any change to the branch tree. The
next request then sees a newer version than the session's and reads them again, so a revoked
role stops working on the very next request, on every web process. Nothing is skipped: the
checks still run, against the same sets, only their reading is saved.

API callers with a token have no session: `authz_prime_cached` (through
`apps.accounts.authentication.CachedRightsTokenAuthentication`) keeps the same
sets in Django's cache under (person, authz_version), with the same freshness test, so a
token call also sees a change on its very next request.
"""

from django.contrib.auth.middleware import get_user
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject

from apps.accounts.models import User
from apps.org.models import Branch
from apps.org.selectors import branch_subtree_ids

SESSION_KEY = "_authz"
CACHE_PREFIX = "authz"
# How long an API caller's sets stay in the cache unused. Not a staleness bound: a change is
# seen on the next request whatever this is (the key carries the version); it only frees memory.
CACHE_SECONDS = 8 * 60 * 60


def authz_bump(*, user_ids=None, group_ids=None, everyone: bool = False) -> None:
    """Raise the version of these users (or of the members of these groups, or of everyone)."""
    users = User.objects.all()
    if not everyone:
        if group_ids is not None:
            users = users.filter(groups__in=list(group_ids))
        elif user_ids is not None:
            users = users.filter(pk__in=list(user_ids))
        else:
            return
    # Members of two groups would appear twice in the join: update by id.
    User.objects.filter(pk__in=users.values("pk")).update(authz_version=F("authz_version") + 1)


def _read(user) -> dict:
    from django.contrib.auth import get_backends

    roles = sorted(user.roles)
    perms = set()
    for backend in get_backends():  # the same sets `user.has_perm` would read, once
        if hasattr(backend, "get_all_permissions"):
            perms |= backend.get_all_permissions(user)
    subtree = sorted(branch_subtree_ids(branch_id=user.branch_id)) if user.branch_id else []
    return {
        "uid": user.pk,
        "v": user.authz_version,
        "branch": user.branch_id,
        "su": user.is_superuser,
        "active": user.is_active,
        "roles": roles,
        "perms": sorted(perms),
        "subtree": subtree,
    }


def _fresh(entry, user) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("uid") == user.pk
        and entry.get("v") == user.authz_version
        and entry.get("branch") == user.branch_id
        and entry.get("su") == user.is_superuser
        and entry.get("active") == user.is_active
    )


def _apply(user, entry) -> None:
    """Hand `user` the kept sets: has_role, has_perm and the branch scope read no table."""
    user.__dict__["roles"] = frozenset(entry["roles"])
    perms = set(entry["perms"])
    user._perm_cache = perms  # ModelBackend's own per-instance caches
    user._user_perm_cache = user._group_perm_cache = perms
    user._authz_subtree = (entry["branch"], frozenset(entry["subtree"]))


def authz_prime(request, user):
    """Give `user` its roles, permissions and subtree from the session, or read and keep them."""
    if not getattr(user, "is_authenticated", False) or not isinstance(user, User):
        return user
    entry = request.session.get(SESSION_KEY)
    if not _fresh(entry, user):
        entry = _read(user)
        request.session[SESSION_KEY] = entry
    _apply(user, entry)
    return user


def _cache_key(user) -> str:
    # The session auth hash (an HMAC of the password hash) tells apart two rows that share an
    # id and version (a restored database, rolled-back test rows) and drops the entry on a
    # password change too.
    return f"{CACHE_PREFIX}:{user.pk}:{user.authz_version}:{user.get_session_auth_hash()[:20]}"


def authz_prime_cached(user):
    """The same for a caller without a session (an API token): the sets are kept in Django's
    cache under the person and their `authz_version`. A change raises the version, so the next
    request looks under a new key and reads them again; the old entry is never consulted (it
    ages out). The entry is checked against the row as the session's is (`_fresh`), so a moved
    branch or a lost superuser flag is never served from the cache either."""
    if not getattr(user, "is_authenticated", False) or not isinstance(user, User):
        return user
    key = _cache_key(user)
    entry = cache.get(key)
    if not _fresh(entry, user):
        entry = _read(user)
        cache.set(key, entry, CACHE_SECONDS)
    _apply(user, entry)
    return user


class AuthzSessionMiddleware:
    """After AuthenticationMiddleware: request.user comes with its rights from the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = SimpleLazyObject(lambda: authz_prime(request, get_user(request)))
        return self.get_response(request)


# --- what raises the version ----------------------------------------------------------------


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="authz.user_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="authz.user_perms")
def _user_links_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # user.groups.add(...) / user.user_permissions.remove(...)
        authz_bump(user_ids=[instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): everyone linked before the clear
        other = "group_id" if sender is User.groups.through else "permission_id"
        authz_bump(user_ids=sender.objects.filter(**{other: instance.pk}).values("user_id"))
    else:
        authz_bump(user_ids=pk_set or [])


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="authz.group_perms")
def _group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # group.permissions.set/add/remove/clear
        authz_bump(group_ids=[instance.pk])
    elif action == "pre_clear":  # permission.group_set.clear()
        authz_bump(group_ids=sender.objects.filter(permission_id=instance.pk).values("group_id"))
    else:
        authz_bump(group_ids=pk_set or [])


@receiver(post_save, sender=Group, dispatch_uid="authz.group_saved")
@receiver(pre_delete, sender=Group, dispatch_uid="authz.group_deleted")
def _group_changed(sender, instance, **kwargs) -> None:
    """Roles are read from group names: a rename or a deletion changes its members' roles."""
    if instance.pk is not None:
        authz_bump(group_ids=[instance.pk])


@receiver(post_delete, sender=Permission, dispatch_uid="authz.permission_deleted")
@receiver(post_save, sender=Branch, dispatch_uid="authz.branch_saved")
@receiver(post_delete, sender=Branch, dispatch_uid="authz.branch_deleted")
def _everyone_changed(sender, **kwargs) -> None:
    """A branch added, moved or removed changes subtrees (rare: every session re-reads)."""
    authz_bump(everyone=True)
