"""Who may do what in post-loan monitoring. Roles come from `apps.accounts.roles`; branch
scope from `visible_branch_ids`. Used as `permission=` on transitions (so pages offer only
the moves a user may make) and again by the services.

- Post-loan officers work the loans of their branch (acknowledge, close, complete actions,
  propose a category).
- Risk reviewers confirm classifications (认定), never their own proposal (four-eyes).
- Approvers approve upgrades one level up, neither proposer nor confirmer (审批).
- A second person (team lead or risk reviewer) confirms an L3 close or waives an action.
No superuser bypass: four-eyes holds for everyone.
"""

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids


def in_branch(user, branch_id: int) -> bool:
    """The record's branch is one the user may see."""
    if user is None or not user.is_authenticated:
        return False
    branches = visible_branch_ids(viewer=user)
    return branches is None or branch_id in branches


def may_work_loan(record, user) -> bool:
    """Post-loan officer of the loan's branch (or the loan's own officer)."""
    if not in_branch(user, record.branch_id):
        return False
    return user.has_role(Role.POST_LOAN_OFFICER) or _loan_officer_id(record) == user.pk


def may_propose_classification(loan, user) -> bool:
    """Post-loan officers and risk reviewers of the branch may propose a category (初分)."""
    return in_branch(user, loan.branch_id) and user.has_role(Role.POST_LOAN_OFFICER,
                                                             Role.RISK_REVIEWER)


def may_confirm_classification(classification, user) -> bool:
    """认定 by a risk reviewer who did not propose it."""
    return (in_branch(user, classification.branch_id) and user.has_role(Role.RISK_REVIEWER)
            and user.pk != classification.proposed_by_id)


def may_approve_upgrade(classification, user) -> bool:
    """审批 one level up: an approver who neither proposed nor confirmed the upgrade."""
    return (in_branch(user, classification.branch_id) and user.has_role(Role.APPROVER)
            and user.pk not in {classification.proposed_by_id, classification.confirmed_by_id})


def may_reject_classification(classification, user) -> bool:
    """Whoever would decide the proposal at its current step may turn it down."""
    from apps.monitoring.states import ClassificationState

    if classification.state == ClassificationState.CONFIRMED:
        return may_approve_upgrade(classification, user)
    return may_confirm_classification(classification, user)


def may_confirm_signal_close(signal, user) -> bool:
    """An L3 close needs a team lead or risk reviewer other than the officer who asked."""
    return (in_branch(user, signal.branch_id) and user.has_role(Role.TEAM_LEAD,
                                                                Role.RISK_REVIEWER)
            and user.pk != signal.close_requested_by_id)


def may_waive_action(action, user) -> bool:
    """A mandatory action is waived only by a second person, never its owner."""
    return (in_branch(user, action.branch_id) and user.has_role(Role.TEAM_LEAD,
                                                                Role.RISK_REVIEWER)
            and user.pk != action.owner_id)


def system_or_officer(record, user) -> bool:
    """The engine (no user) or an officer who may work the loan."""
    return user is None or may_work_loan(record, user)


def _loan_officer_id(record):
    loan = getattr(record, "loan", None)
    return getattr(loan, "officer_id", None) if loan is not None else getattr(
        record, "officer_id", None)
