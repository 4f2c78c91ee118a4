"""Who may do what with scores and models (checked again by every service)."""

from apps.accounts.roles import Role

# Model risk belongs to the risk function (§7.3 independent validation), with administrators.
MODEL_ROLES = (Role.RISK_REVIEWER, Role.ADMIN)
# Those who read the model pages: risk, decision makers and audit.
MODEL_VIEW_ROLES = (Role.RISK_REVIEWER, Role.ADMIN, Role.APPROVER, Role.COMMITTEE_MEMBER,
                    Role.AUDITOR)
# "Score now" on a file: the reviewers and deciders who rely on it, and the team lead.
SCORE_ROLES = (Role.RISK_REVIEWER, Role.APPROVER, Role.TEAM_LEAD, Role.ADMIN)
# Failed scores are acted on by credit policy (the risk function owns the models and the
# policy a failure usually points at) and by operations (administrators, who run the workers);
# auditors may read the list but not re-run.
SCORE_FAILURE_ROLES = (Role.RISK_REVIEWER, Role.ADMIN)
SCORE_FAILURE_VIEW_ROLES = (*SCORE_FAILURE_ROLES, Role.AUDITOR)


def _has(user, roles) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(*roles))


def may_manage_models(user) -> bool:
    return _has(user, MODEL_ROLES)


def may_view_models(user) -> bool:
    return _has(user, MODEL_VIEW_ROLES)


def may_request_score(user) -> bool:
    return _has(user, SCORE_ROLES)


def may_view_score_failures(user) -> bool:
    return _has(user, SCORE_FAILURE_VIEW_ROLES)


def may_rerun_score(user) -> bool:
    return _has(user, SCORE_FAILURE_ROLES)
