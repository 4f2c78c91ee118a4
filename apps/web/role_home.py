"""Home-page panels per role. Domain apps will fill these with their work queues."""

from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role

_PANELS = {
    Role.ACCOUNT_MANAGER: (_("Account manager"),
                           _("Your customers, applications in progress and site visits due.")),
    Role.TEAM_LEAD: (_("Team lead"),
                     _("Your branch's pipeline and the work waiting on your team.")),
    Role.RISK_REVIEWER: (_("Risk reviewer"), _("Applications waiting for your review.")),
    Role.APPROVER: (_("Approver"), _("Applications waiting for your sign-off.")),
    Role.COMMITTEE_MEMBER: (_("Credit committee"), _("Meetings and votes waiting for you.")),
    Role.POST_LOAN_OFFICER: (_("Post-loan officer"),
                             _("Inspections due and early-warning signals to act on.")),
    Role.AUDITOR: (_("Auditor"), _("Process trails of every branch, read-only.")),
    Role.ADMIN: (_("Administrator"),
                 _("Products, checklists, authority rules, people and system status.")),
}


def role_panels(user) -> list[dict]:
    """The panels of the roles the user holds, in the order of the workflow."""
    return [{"role": role, "title": title, "text": text}
            for role, (title, text) in _PANELS.items() if user.has_role(role)]
