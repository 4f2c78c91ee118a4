"""Writes of the approvals app, one module per purpose; import from here."""

from apps.approvals.services.committee import (  # noqa: F401
    QuorumNotReached,
    committee_session_schedule,
    committee_tally,
    committee_vote_cast,
    committee_vote_close,
)
from apps.approvals.services.conditions import condition_satisfy  # noqa: F401
from apps.approvals.services.delegation import delegation_grant, delegation_revoke  # noqa: F401
from apps.approvals.services.matrix import (  # noqa: F401
    authority_matrix_draft,
    authority_matrix_in_force,
    authority_matrix_publish,
    authority_rule_add,
)
from apps.approvals.services.notifications import (  # noqa: F401
    approval_deadlines_sweep,
    approval_step_notify,
)
from apps.approvals.services.review import (  # noqa: F401
    policy_exception_declare,
    review_return,
    review_send_to_approval,
)
from apps.approvals.services.routing import RouteUnavailable  # noqa: F401
from apps.approvals.services.signoff import (  # noqa: F401
    SigningLocked,
    WrongPassword,
    step_sign,
)
