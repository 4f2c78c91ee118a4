from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role

_ANY_ROLE = tuple(Role)
_PREPARERS = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)

# (label, url name, roles that see it; empty = everyone signed in, permission needed or None)
_NAV = [
    (_("Home"), "web:home", (), None),
    (_("My work"), "applications:mine", _PREPARERS, None),
    (_("Customers"), "parties:enterprise-list", _ANY_ROLE, "parties.view_enterprise"),
    (_("Applications"), "applications:list", _ANY_ROLE, None),
    (_("Waiting for me"), "approvals:inbox",
     (Role.RISK_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER), None),
    (_("Re-verifications"), "investigations:reverifications",
     (Role.TEAM_LEAD, Role.RISK_REVIEWER), None),
    (_("Loans"), "loans:list",
     (Role.TEAM_LEAD, Role.POST_LOAN_OFFICER, Role.LOAN_OPERATIONS, Role.AUDITOR, Role.ADMIN),
     None),
    (_("Core-banking feed"), "loans:feed-imports",
     (Role.LOAN_OPERATIONS, Role.AUDITOR, Role.ADMIN), None),
    (_("Post-loan work"), "monitoring:worklist",
     (Role.POST_LOAN_OFFICER, Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER), None),
    (_("NPL and migration"), "monitoring:branch",
     (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ADMIN), None),
    (_("Portfolio"), "insight:portfolio",
     (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ADMIN), None),
    (_("Officer scorecard"), "insight:officers",
     (Role.TEAM_LEAD, Role.POST_LOAN_OFFICER, Role.RISK_REVIEWER, Role.AUDITOR, Role.ADMIN),
     None),
    (_("External data costs"), "datahub:costs", _ANY_ROLE, "datahub.view_cost_report"),
    (_("Pipeline and deadlines"), "insight:pipeline",
     (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ADMIN), None),
    (_("Product thresholds"), "insight:thresholds",
     (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ADMIN), None),
    (_("Notifications"), "insight:notifications", _ANY_ROLE, None),
    (_("Products"), "products:product-list", _ANY_ROLE, "products.view_creditproduct"),
    (_("Credit models"), "scoring:model-list",
     (Role.RISK_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER, Role.AUDITOR, Role.ADMIN), None),
    # Those who can act on a failed score (re-run it): scoring's SCORE_FAILURE_ROLES.
    (_("Failed scores"), "scoring:score-failures", (Role.RISK_REVIEWER, Role.ADMIN), None),
    (_("System status"), "web:system-status", (Role.ADMIN,), None),
    (_("Audit"), "oversight:events", (Role.AUDITOR, Role.ADMIN), None),
    (_("API documentation"), "api-docs", (), None),
    (_("Administration"), "admin:index", (Role.ADMIN,), None),
]


def _waiting_count(request, user) -> int:
    """Items waiting for the user's signature or vote (one count query, none on the inbox
    itself, which counted them with its page)."""
    from apps.approvals.selectors import inbox_count

    counted = getattr(request, "inbox_waiting_count", None)
    return counted if counted is not None else inbox_count(viewer=user)


def navigation(request) -> dict:
    """The menu for the signed-in user's roles; the views check permissions again."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, roles, permission in _NAV:
        if roles and not (user.is_superuser or user.has_role(*roles)):
            continue
        if permission and not user.has_perm(permission):
            continue
        count = _waiting_count(request, user) if url_name == "approvals:inbox" else None
        items.append({"label": label, "url": reverse(url_name), "current": False,
                      "count": count})
    # The deepest menu URL containing the page is current: a customer's page lights up
    # "Customers", while "/" (a prefix of everything) only counts on the home page itself.
    best = max((item for item in items
                if request.path == item["url"]
                or (item["url"] != "/" and request.path.startswith(item["url"]))),
               key=lambda item: len(item["url"]), default=None)
    if best is not None:
        best["current"] = True
    return {"nav_items": items}
