"""Walk an application through its lifecycle with the services, as the staff would.

Used by the demo seed (applications in every state) and by tests that need a file in a given
state; both go through the real services, so demo data obeys every rule the product enforces.
"""

from apps.accounts.models import User
from apps.applications import services
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S

# The main road, in order; each step names the role (by username prefix) that takes it.
_ROAD = [
    (S.SUBMITTED, "am", lambda a, u: services.application_submit(application_id=a.pk, actor=u)),
    (S.INVESTIGATING, "am", lambda a, u: services.application_start_investigation(
        application_id=a.pk, actor=u)),
    (S.UNDER_REVIEW, "am", lambda a, u: services.application_send_to_review(
        application_id=a.pk, actor=u)),
    (S.IN_APPROVAL, "reviewer", lambda a, u: services.application_send_to_approval(
        application_id=a.pk, actor=u, comment="Cash flow covers repayments 1.6 times.")),
    (S.APPROVED, "approver", lambda a, u: services.application_approve(
        application_id=a.pk, actor=u, reason="Sound cash flow and local reputation.")),
    (S.CONTRACTED, "postloan", lambda a, u: services.application_contract(
        application_id=a.pk, actor=u)),
    (S.DISBURSED, "postloan", lambda a, u: services.application_disburse(
        application_id=a.pk, actor=u)),
]

# Side exits: (state to reach first, role, move).
_EXITS = {
    S.RETURNED: (S.UNDER_REVIEW, "reviewer", lambda a, u: services.application_return_for_rework(
        application_id=a.pk, actor=u, comment="Add the premises lease and 12 months of "
                                              "bank statements.")),
    S.REJECTED: (S.UNDER_REVIEW, "reviewer", lambda a, u: services.application_reject(
        application_id=a.pk, actor=u, reason="Declared revenue not supported by tax records.")),
    S.WITHDRAWN: (S.SUBMITTED, "am", lambda a, u: services.application_withdraw(
        application_id=a.pk, actor=u, reason="The customer found cheaper funding.")),
    S.EXPIRED: (S.DRAFT, None, lambda a, u: services.application_expire(
        application_id=a.pk, reason="Draft idle beyond the policy limit.")),
}


def walk_to_state(application: Application, state: str, *, branch_code: str) -> Application:
    """Move `application` (a draft) to `state` with the branch's demo staff."""
    def staff(prefix: str | None) -> User | None:
        return None if prefix is None else User.objects.get(username=f"{prefix}.{branch_code}")

    target, exit_move = state, None
    if state in _EXITS:
        target, prefix, move = _EXITS[state]
        exit_move = (prefix, move)
    for _reached, prefix, move in _ROAD:
        if application.state == target:
            break
        application = move(application, staff(prefix))
    if exit_move is not None:
        application = exit_move[1](application, staff(exit_move[0]))
    return Application.objects.get(pk=application.pk)
