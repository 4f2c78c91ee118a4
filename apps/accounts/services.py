from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.audit.services import audit_record


@transaction.atomic
def user_create(*, username: str, password: str | None, branch=None, roles: list[str] = (),
                authority_level: int | None = None, first_name: str = "", last_name: str = "",
                email: str = "", is_staff: bool = False, actor=None) -> User:
    """Create a member of staff with roles; audited, since roles grant access to loan files."""
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")
    user = User(username=username, branch=branch, authority_level=authority_level,
                first_name=first_name, last_name=last_name, email=email, is_staff=is_staff)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    audit_record(action="user.created", actor=actor, subject=user,
                 payload={"username": username, "roles": sorted(roles),
                          "branch": branch.code if branch else None,
                          "authority_level": authority_level})
    return user


@transaction.atomic
def user_roles_set(*, user: User, roles: list[str], actor=None) -> User:
    """Replace a user's roles; the old and new sets go into the trail."""
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    old = sorted(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    keep = user.groups.exclude(name__in=Role.values)
    user.groups.set(list(keep) + list(Group.objects.filter(name__in=roles)))
    audit_record(action="user.roles_changed", actor=actor, subject=user,
                 payload={"old": old, "new": sorted(roles)})
    return user
