"""Bank staff. The custom user model exists from the first migration, as Django advises."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import ALL_BRANCH_ROLES, Role


class User(AbstractUser):
    """A member of staff: belongs to a branch, holds roles (groups), maybe an authority level."""

    branch = models.ForeignKey(
        "org.Branch", null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
        verbose_name=_("branch"),
        help_text=_("Staff see records of this branch and its sub-branches."),
    )
    # The approver's delegated authority level (授权等级); the authority matrix maps it to amounts.
    authority_level = models.PositiveSmallIntegerField(
        _("authority level"), null=True, blank=True,
        help_text=_("For approvers: the level of the authority matrix this person may sign at."),
    )
    # Raised (in the changing transaction) whenever what this person may do changes: their
    # roles, their or their roles' permissions, the branch tree. A signed-in page's roles,
    # permissions and branch subtree are kept in the session with the version they were read
    # at (apps.accounts.authz), so a change takes effect on the very next request.
    authz_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def save(self, *args, **kwargs):
        # A stale instance saved back must never lower the version a change just raised
        # (that would revive cached rights): only apps.accounts.authz writes it, by UPDATE.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name != "authz_version"]
        super().save(*args, **kwargs)

    @cached_property
    def roles(self) -> frozenset[str]:
        """Role codes held, from group names (cached for the request: roles rarely change)."""
        valid = set(Role.values)
        return frozenset(name for name in self.groups.values_list("name", flat=True)
                         if name in valid)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_all_branches(self) -> bool:
        return self.is_superuser or bool(self.roles & ALL_BRANCH_ROLES)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
