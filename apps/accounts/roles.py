"""Roles are Django groups with permissions; this module is their single definition.

Domain apps add their permissions to `ROLE_PERMISSIONS` as they arrive; `sync_role_groups`
(run after every migrate) makes the groups match. Branch scoping is separate: see selectors.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    TEAM_LEAD = "team_lead", _("Team lead")
    RISK_REVIEWER = "risk_reviewer", _("Risk reviewer")
    APPROVER = "approver", _("Approver")
    COMMITTEE_MEMBER = "committee_member", _("Credit committee member")
    POST_LOAN_OFFICER = "post_loan_officer", _("Post-loan officer")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


# Roles whose work spans the bank: they see every branch's records (auditors read-only).
ALL_BRANCH_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})

# "app_label.codename" per role; permissions of apps not installed yet are skipped quietly.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.ACCOUNT_MANAGER: {"org.view_branch"},
    Role.TEAM_LEAD: {"org.view_branch", "accounts.view_user"},
    Role.RISK_REVIEWER: {"org.view_branch"},
    Role.APPROVER: {"org.view_branch"},
    Role.COMMITTEE_MEMBER: {"org.view_branch"},
    Role.POST_LOAN_OFFICER: {"org.view_branch"},
    Role.AUDITOR: {"org.view_branch", "accounts.view_user", "audit.view_auditevent",
                   "audit.export_auditevent"},
    Role.ADMIN: {"org.view_branch", "org.add_branch", "org.change_branch",
                 "accounts.view_user", "accounts.add_user", "accounts.change_user",
                 "audit.view_auditevent", "core.view_taskprobe", "core.add_taskprobe",
                 "django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask"},
}


def sync_role_groups(sender=None, **kwargs) -> None:
    """Create one group per role and give it exactly the permissions listed above."""
    from django.contrib.auth.models import Group, Permission

    for role, codes in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".", 1)
            wanted += Permission.objects.filter(content_type__app_label=app_label,
                                                codename=codename)
        group.permissions.set(wanted)
