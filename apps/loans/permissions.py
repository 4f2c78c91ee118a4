"""Who may make each move of a contract, a drawdown or a loan: role, branch, and segregation
of duties (独立放款: disbursement by an operations unit independent of the credit decision).

These are django-fsm `permission=` callables (instance, user) and `conditions=` callables
(instance). No superuser bypass: the four-eyes rule binds everyone. They are imported by
`models.py`, so they read related rows lazily and import no models at module level.
"""

from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids


def _in_scope(branch_id: int, user) -> bool:
    branch_ids = visible_branch_ids(viewer=user)
    return branch_ids is None or branch_id in branch_ids


def file_participant_ids(application) -> set[int]:
    """Everyone who prepared, investigated, reviewed or signed the credit decision of the file:
    none of them may contract or pay it out (审贷分离 / 独立放款)."""
    from apps.approvals.models import SignOff
    from apps.approvals.sod import involved_user_ids

    ids = set(involved_user_ids(application)) | {application.decided_by_id}
    for signer, principal in SignOff.objects.filter(route__application=application) \
            .values_list("signer_id", "on_behalf_of_id"):
        ids |= {signer, principal}
    return {i for i in ids if i is not None}


def is_operations_officer(user, *, branch_id: int) -> bool:
    """A loan operations officer whose branch scope covers the record."""
    return (user.is_authenticated and user.has_role(Role.LOAN_OPERATIONS)
            and _in_scope(branch_id, user))


def can_operate_contract(contract, user) -> bool:
    """Contract moves (cancel, close) by an operations officer independent of the file."""
    return (is_operations_officer(user, branch_id=contract.branch_id)
            and user.pk not in file_participant_ids(contract.application))


def can_check_disbursement(disbursement, user) -> bool:
    """The checker: an operations officer who did not request this drawdown (four-eyes) and
    had no hand in the credit file (account manager, investigators, reviewer, approvers)."""
    contract = disbursement.contract
    return (is_operations_officer(user, branch_id=contract.branch_id)
            and user.pk != disbursement.requested_by_id
            and user.pk not in file_participant_ids(contract.application))


def is_requester(disbursement, user) -> bool:
    """Only the officer who asked may withdraw a request."""
    return user.is_authenticated and user.pk == disbursement.requested_by_id


def can_check_change(change, user) -> bool:
    """Restructuring, write-off and transfer are approved by a second operations officer,
    never the one who asked nor anyone who took part in the credit decision."""
    return (is_operations_officer(user, branch_id=change.branch_id)
            and user.pk != change.requested_by_id
            and user.pk not in file_participant_ids(change.application))


def nobody(instance, user) -> bool:
    """Moves only a service makes on someone else's approval or on the system's clock."""
    return False


def value_date_reached(loan) -> bool:
    """A loan becomes active on its value date, not before."""
    return loan.value_date <= timezone.localdate()


def nothing_outstanding(loan) -> bool:
    """Settled only when the core system reports no principal outstanding."""
    return loan.outstanding_principal == 0
