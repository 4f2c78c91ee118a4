"""Home-page panels per role, with links to each role's work queue and its size."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.applications.selectors import application_list
from apps.applications.states import TERMINAL_STATES, ApplicationState
from apps.approvals.selectors import inbox_count

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
    Role.LOAN_OPERATIONS: (_("Loan operations officer"),
                           _("Approved files to contract, and drawdowns waiting for a second "
                             "officer.")),
    Role.EXEMPTION_COMMITTEE: (_("Exemption committee"),
                               _("Due-diligence exemption cases waiting for a decision.")),
    Role.AUDITOR: (_("Auditor"), _("Process trails of every branch, read-only.")),
    Role.POLICY_OFFICER: (_("Policy officer"),
                          _("Products, entry conditions and policy values: draft a change, "
                            "check its impact, publish a colleague's draft.")),
    Role.ADMIN: (_("Administrator"),
                 _("Products, checklists, authority rules, people and system status.")),
}

_ACTIVE = [state for state in ApplicationState if state not in TERMINAL_STATES]

# The state each role's queue waits in (the list page filters by it).
_QUEUES = {
    Role.RISK_REVIEWER: (ApplicationState.UNDER_REVIEW, _("Waiting for review")),
    Role.POST_LOAN_OFFICER: (ApplicationState.APPROVED, _("Approved, to contract")),
    Role.LOAN_OPERATIONS: (ApplicationState.APPROVED, _("Approved, to contract")),
}


def _counts(user) -> dict:
    """Open files per state, and the user's own open files: one grouped query."""
    rows = (application_list(viewer=user).order_by().filter(state__in=_ACTIVE)
            .values("state").annotate(n=Count("pk"), mine=Count("pk", filter=Q(
                account_manager=user))))
    counts = {row["state"]: row["n"] for row in rows}
    counts["mine"] = sum(row["mine"] for row in rows)
    return counts


def _links(role, user, counts: dict) -> list[dict]:
    applications = reverse("applications:list")
    if role == Role.ACCOUNT_MANAGER:
        return [{"label": _("My work"), "url": reverse("applications:mine"),
                 "count": counts["mine"]},
                {"label": _("Find a customer"), "url": reverse("parties:enterprise-list"),
                 "count": None}]
    if role == Role.TEAM_LEAD:
        return [{"label": _("Branch pipeline (open files)"), "url": applications,
                 "count": sum(n for state, n in counts.items() if state != "mine")}]
    if role in (Role.APPROVER, Role.COMMITTEE_MEMBER):
        # The first number is what waits for this person (the inbox counts the same steps);
        # an approver also sees how many files the branch has in approval altogether.
        waiting = (_("Waiting for your signature") if role == Role.APPROVER
                   else _("Waiting for your vote"))
        links = [{"label": waiting, "url": reverse("approvals:inbox"),
                  "count": inbox_count(viewer=user)}]
        if role == Role.APPROVER:
            state = ApplicationState.IN_APPROVAL
            links.append({"label": _("All files in approval"),
                          "url": f"{applications}?{urlencode({'state': state.value})}",
                          "count": counts.get(state, 0)})
        else:
            links.append({"label": _("All applications"), "url": applications, "count": None})
        return links
    if role in _QUEUES:
        state, label = _QUEUES[role]
        links = [{"label": label, "url": f"{applications}?{urlencode({'state': state.value})}",
                  "count": counts.get(state, 0)}]
        if role == Role.LOAN_OPERATIONS:
            links.append({"label": _("Loan book"), "url": reverse("loans:list"),
                          "count": None})
        return links
    if role == Role.EXEMPTION_COMMITTEE:
        return [{"label": _("Exemption cases"), "url": reverse("oversight:exemptions"),
                 "count": None}]
    if role == Role.POLICY_OFFICER:
        return [{"label": _("Policy workbench"), "url": reverse("products:workbench"),
                 "count": None},
                {"label": _("Policy values"), "url": reverse("investigations:policy-values"),
                 "count": None},
                {"label": _("Checklist templates"), "url": reverse("investigations:templates"),
                 "count": None},
                {"label": _("Authority matrix"), "url": reverse("approvals:matrices"),
                 "count": None},
                {"label": _("Document requirements"),
                 "url": reverse("documents:requirements-list"), "count": None},
                {"label": _("Due-diligence duty rules"),
                 "url": reverse("oversight:duty-rules-list"), "count": None},
                {"label": _("Early-warning signal rules"),
                 "url": reverse("monitoring:signal-rules"), "count": None},
                {"label": _("Actions by warning level"),
                 "url": reverse("monitoring:level-actions-list"), "count": None},
                {"label": _("Decision policies"), "url": reverse("scoring:policies"),
                 "count": None}]
    if role in (Role.AUDITOR, Role.ADMIN):
        return [{"label": _("All applications"), "url": applications, "count": None}]
    return []


def role_panels(user) -> list[dict]:
    """The panels of the roles the user holds, in the order of the workflow."""
    held = [role for role in _PANELS if user.has_role(role)]
    counts = _counts(user) if held else {}
    return [{"role": role, "title": _PANELS[role][0], "text": _PANELS[role][1],
             "links": _links(role, user, counts)} for role in held]
