"""One helper so every monitoring event is scoped to its loan's application, borrower and
branch (auditors filter a loan's whole trail by application)."""

from apps.audit.services import audit_record


def audit_loan_event(*, action: str, actor, subject, loan, payload: dict):
    return audit_record(action=action, actor=actor, subject=subject, payload=payload,
                        branch_id=loan.branch_id, application_id=loan.application_id,
                        enterprise_id=loan.enterprise_id)
