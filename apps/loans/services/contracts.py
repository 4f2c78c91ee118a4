"""Contracting: an approved application becomes a signed `LoanContract` on the approved terms.

Domain §2.4–§2.5 and §6.3: the terms are the approval's (approved amount and rate, never the
requested ones); conditions precedent and the approvers' conditions are copied as they stand,
so a later change elsewhere cannot rewrite what was signed. The application moves to
`contracted` through its own transition and service in the same transaction, so the
conditions-precedent guard (approvals) and the independence rule (独立放款) apply as they do
everywhere else.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.services import application_contract
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import transition_check
from apps.loans.contract_template import template_load
from apps.loans.models import LoanContract, ScheduleMethod, SigningMode
from apps.loans.permissions import file_participant_ids
from apps.loans.services.common import check_in_scope


def contract_number_for(application: Application) -> str:
    """HT + the application's reference: unique because a file has one contract, and an
    officer reading either number finds the other."""
    return f"HT{application.reference}"


def conditions_snapshot(application: Application) -> dict:
    """The conditions precedent of the latest approval round (with how each was satisfied)
    and the conditions the approvers signed, as they stand at signing."""
    from apps.approvals.models import ConditionPrecedent, SignOff

    route = application.approval_routes.order_by("-round").first()
    if route is None:
        return {"conditions_precedent": [], "covenants": []}
    precedent = [{
        "text": c.text, "state": c.state,
        "satisfied_by": c.satisfied_by.username if c.satisfied_by_id else None,
        "satisfied_at": c.satisfied_at.isoformat() if c.satisfied_at else None,
        "evidence": c.evidence_note,
    } for c in ConditionPrecedent.objects.filter(route=route).select_related("satisfied_by")]
    covenants = [{"text": text, "set_by": s.signer.username, "level": s.authority_level}
                 for s in SignOff.objects.filter(route=route).select_related("signer")
                 for text in (s.conditions or [])]
    return {"route_round": route.round, "conditions_precedent": precedent,
            "covenants": covenants}


@transaction.atomic
def contract_create(*, application_id: int, actor: User,
                    signing_mode: str = SigningMode.IN_PERSON, signing_place: str = "",
                    signing_witness: User | None = None, comment: str = "") -> LoanContract:
    """Sign the loan contract of an approved application (by a loan operations officer
    independent of the credit decision), and move the application to `contracted`.

    Refused: 403 for anyone but an independent operations officer of the branch; 409 when
    the file is not approved, already has a contract, or a condition precedent is still
    open; 400 for a witness who is not a second, independent officer of the branch.
    """
    application = (Application.objects.select_for_update(no_key=True, of=("self",))
                   .select_related("product_version__product").get(pk=application_id))
    check_in_scope(actor, application.branch_id)
    # The operations role signs contracts; the application's transition accepts post-loan
    # officers too (they checked conditions before the role existed), contracting does not.
    if not actor.has_role(Role.LOAN_OPERATIONS):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("Only loan operations officers sign contracts."))
    transition_check(application.contract, actor=actor)
    if LoanContract.objects.filter(application=application).exists():
        raise TransitionConflict(detail=_("This application already has a contract."))
    errors = {}
    if signing_mode not in SigningMode.values:
        errors["signing_mode"] = _("Choose in person or video.")
    if signing_witness is not None:
        if signing_witness.pk == actor.pk:
            errors["signing_witness"] = _("The second officer present must be someone else.")
        elif (signing_witness.pk in file_participant_ids(application)
              or not signing_witness.is_active):
            errors["signing_witness"] = _("Choose an active officer independent of this file.")
        else:
            try:
                check_in_scope(signing_witness, application.branch_id)
            except Exception:  # noqa: BLE001 - any scope refusal is the same field error
                errors["signing_witness"] = _("The second officer must work in this branch.")
    method = application.repayment_method
    if method not in ScheduleMethod.values:
        errors["repayment_method"] = _(
            "Revolving lines are not contracted here: the approved repayment method must be "
            "equal instalments, equal principal or interest-only.")
    if not application.amount_approved or application.rate_approved is None:
        errors["amount_approved"] = _("The approval has no approved amount or rate.")
    if errors:
        raise ValidationError(errors)

    # The application's own move first: it re-checks the conditions-precedent guard and
    # audits `application.contracted`; if it refuses, nothing below happens.
    application_contract(application_id=application.pk, actor=actor, comment=comment)
    template = template_load()
    version = application.product_version
    contract = LoanContract.objects.create(
        application=application, contract_number=contract_number_for(application),
        branch_id=application.branch_id, enterprise_id=application.enterprise_id,
        currency=application.currency, amount=application.amount_approved,
        annual_rate=application.rate_approved, term_months=application.term_months,
        repayment_method=method, day_count=version.day_count,
        collateral_type=application.collateral_type, conditions=conditions_snapshot(application),
        signed_at=timezone.now(), created_by=actor, template_version=template.version,
        template_sha256=template.sha256, signing_mode=signing_mode,
        signing_place=signing_place.strip(), signing_witness=signing_witness)
    audit_record(action="contract.created", actor=actor, subject=contract, payload={
        "contract_number": contract.contract_number, "reference": application.reference,
        "amount": contract.amount, "rate": contract.annual_rate, "term": contract.term_months,
        "method": method, "day_count": contract.day_count,
        "template": template.version, "template_sha256": template.sha256,
        "signing_mode": signing_mode, "witness": getattr(signing_witness, "pk", None),
        "conditions_precedent": len(contract.conditions.get("conditions_precedent", [])),
        "covenants": len(contract.conditions.get("covenants", [])), "comment": comment})
    return contract


@transaction.atomic
def contract_close(*, contract_id: int, actor: User, reason: str) -> LoanContract:
    """Stop further drawdowns (the undrawn amount lapses); a contract with no booked loan is
    cancelled instead. Pending requests must be decided or withdrawn first."""
    from apps.loans.states import DisbursementState

    contract = LoanContract.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "application").get(pk=contract_id)
    check_in_scope(actor, contract.branch_id)
    has_loans = contract.loans.exists()
    transition = contract.close if has_loans else contract.cancel
    transition_check(transition, actor=actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the contract is closed.")})
    if contract.disbursements.filter(state=DisbursementState.REQUESTED).exists():
        raise TransitionConflict(detail=_("Decide or withdraw the pending drawdown requests "
                                          "first."))
    source = contract.state
    transition(at=timezone.now(), reason=reason.strip())
    contract.save()
    audit_record(action="contract.closed" if has_loans else "contract.cancelled", actor=actor,
                 subject=contract, payload={"from": source, "to": contract.state,
                                            "reason": reason.strip()})
    return contract
