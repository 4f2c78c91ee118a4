"""Who may make each move of an application: role, branch, and segregation of duties.

These are django-fsm `permission=` callables (instance, user). They never grant a bypass to
superusers: 审贷分离 (Commercial Bank Law art. 35) binds everyone. Branch scope is checked too,
so a permission check alone never lets someone act on another branch's file.
"""

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.guards import conflicted_user_ids


def _in_scope(application, user) -> bool:
    branch_ids = visible_branch_ids(viewer=user)
    return branch_ids is None or application.branch_id in branch_ids


def can_prepare(application, user) -> bool:
    """The assigned account manager, or a team lead of the branch, prepares the file."""
    if not user.is_authenticated or not _in_scope(application, user):
        return False
    return user.pk == application.account_manager_id or user.has_role(Role.TEAM_LEAD)


def can_review(application, user) -> bool:
    """A risk reviewer who did not prepare or investigate the application (审贷分离)."""
    return (user.is_authenticated and user.has_role(Role.RISK_REVIEWER)
            and _in_scope(application, user)
            and user.pk not in conflicted_user_ids(application))


def can_decide(application, user) -> bool:
    """An approver (or, when a committee step is last, the committee member whose vote closes
    it) who neither prepared nor reviewed it: nobody signs at two levels. The approvals app's
    guards require its complete route before any approve, reject or return in approval."""
    return (user.is_authenticated and user.has_role(Role.APPROVER, Role.COMMITTEE_MEMBER)
            and _in_scope(application, user)
            and user.pk not in conflicted_user_ids(application)
            and user.pk != application.reviewed_by_id)


def can_disburse(application, user) -> bool:
    """Disbursement and contracting by loan-operations staff (or post-loan officers, who held
    the duty before the operations role existed), independent of the decision (独立放款):
    never the account manager, reviewer or approver of the same file."""
    return (user.is_authenticated
            and user.has_role(Role.LOAN_OPERATIONS, Role.POST_LOAN_OFFICER)
            and _in_scope(application, user)
            and user.pk not in conflicted_user_ids(application)
            and user.pk not in {application.reviewed_by_id, application.decided_by_id})


def can_review_or_decide(application, user) -> bool:
    """Return for rework or reject: the reviewer at review, the approver at approval."""
    from apps.applications.states import ApplicationState

    if application.state == ApplicationState.UNDER_REVIEW:
        return can_review(application, user)
    return can_decide(application, user)


def nobody(application, user) -> bool:
    """Moves only the system makes (expiry sweeps): no person holds this permission."""
    return False
