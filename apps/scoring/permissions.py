"""Who may do what with scores and models (checked again by every service)."""

from apps.accounts.roles import Role

# Model risk belongs to the risk function (§7.3 independent validation), with administrators.
MODEL_ROLES = (Role.RISK_REVIEWER, Role.ADMIN)
# Those who read the model pages: risk, decision makers and audit.
MODEL_VIEW_ROLES = (Role.RISK_REVIEWER, Role.ADMIN, Role.APPROVER, Role.COMMITTEE_MEMBER,
                    Role.AUDITOR)
# "Score now" on a file: the reviewers and deciders who rely on it, and the team lead.
SCORE_ROLES = (Role.RISK_REVIEWER, Role.APPROVER, Role.TEAM_LEAD, Role.ADMIN)


def _has(user, roles) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(*roles))


def may_manage_models(user) -> bool:
    return _has(user, MODEL_ROLES)


def may_view_models(user) -> bool:
    return _has(user, MODEL_VIEW_ROLES)


def may_request_score(user) -> bool:
    return _has(user, SCORE_ROLES)
