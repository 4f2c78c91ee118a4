from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application


def application_list(*, viewer: User, filters: dict | None = None) -> QuerySet[Application]:
    """Applications the viewer may see: their branch's (and sub-branches'), or all for
    bank-wide roles; an account manager without a supervisory role sees their own files.
    One query whatever the page size (ASVS 8.2.2: no IDOR on any route)."""
    applications = Application.objects.select_related(
        "enterprise", "product_version__product", "branch", "account_manager")
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        applications = applications.filter(branch_id__in=branch_ids)
    supervisory = {Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER,
                   Role.POST_LOAN_OFFICER, Role.AUDITOR, Role.ADMIN}
    if not viewer.is_superuser and viewer.has_role(Role.ACCOUNT_MANAGER) \
            and not viewer.has_role(*supervisory):
        applications = applications.filter(account_manager=viewer)
    return applications.filter(**(filters or {}))


def application_get(*, viewer: User, application_id: int) -> Application:
    """404, not 403, for a file the viewer may not see: its existence is not revealed."""
    return get_object_or_404(application_list(viewer=viewer), pk=application_id)
