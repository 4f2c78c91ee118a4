"""Drawdowns under a contract, four-eyes (独立放款): one operations officer requests a tranche,
a second approves or rejects it; approval books the loan note (借据) and its schedule.

Tranche limit: a request may not exceed the contract's undrawn amount, counting both approved
and still-pending requests, so two requests can never together promise more than the contract.
Every write locks the contract row first (`select_for_update(no_key=True, of=("self",))`):
requests and approvals under one contract are serialised, and the limit is checked under that
lock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.applications.services import application_disburse
from apps.applications.states import ApplicationState
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError, TransitionConflict
from apps.core.fsm import transition_check
from apps.loans.models import Disbursement, Loan, LoanContract, PaymentMode, ScheduleMethod
from apps.loans.permissions import file_participant_ids, is_operations_officer
from apps.loans.schedules import FEN, ScheduleUploadError, add_months, parse_irregular
from apps.loans.services.common import check_in_scope, entrusted_payment_threshold
from apps.loans.services.schedules import schedule_generate
from apps.loans.states import ContractState, DisbursementState

# Requests that count against the contract amount.
COMMITTED_STATES = (DisbursementState.REQUESTED, DisbursementState.APPROVED)


class DisbursementBlocked(DomainError):
    """A business rule refuses the drawdown now (conditions open, limit reached)."""

    code = "disbursement_blocked"
    status_code = 409


def undrawn_amount(contract: LoanContract, *, exclude_id: int | None = None) -> Decimal:
    """Contract amount less approved and pending drawdowns (call under the contract lock)."""
    committed = contract.disbursements.filter(state__in=COMMITTED_STATES)
    if exclude_id is not None:
        committed = committed.exclude(pk=exclude_id)
    used = committed.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return contract.amount - used


def _lock_contract(contract_id: int) -> LoanContract:
    return (LoanContract.objects.select_for_update(no_key=True, of=("self",))
            .select_related("application__product_version__product").get(pk=contract_id))


def _conditions_block(contract: LoanContract) -> None:
    """The approvals app's conditions-precedent guard, asked again at each drawdown: a
    condition reopened or added after signing stops the money (§6.3)."""
    from apps.approvals.guards import conditions_precedent_satisfied

    reason = conditions_precedent_satisfied(contract.application)
    if reason:
        raise DisbursementBlocked(_("Conditions precedent are not all satisfied."),
                                  fields={"reasons": [str(reason)]})


def _clean_amount(value) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return amount if amount.is_finite() else None


@transaction.atomic
def disbursement_request(*, contract_id: int, actor: User, amount, value_date: dt.date,
                         borrower_account: str, payment_mode: str, payee_name: str = "",
                         payee_account: str = "", invoice_document_id: int | None = None,
                         schedule_file=None, allow_past_value_date: bool = False
                         ) -> Disbursement:
    """The maker asks for a tranche. Checked: the maker is an independent operations officer
    of the branch (403); the contract is signed (409); the amount is in fen, positive and at
    most the undrawn amount (400); the value date is not in the past; 受托支付 is mandatory
    above the product's policy threshold and then needs the payee and an invoice or
    underlying contract of this file (400); conditions precedent are all satisfied (409).
    `schedule_file` (CSV or XLSX upload) makes the tranche's schedule irregular.

    `allow_past_value_date` is for booking loans that were paid out before Credence held
    them (a data migration, the demo book): a past value date is then accepted and the audit
    event says the drawdown was back-dated. The pages and the API never pass it."""
    contract = _lock_contract(contract_id)
    application = contract.application
    check_in_scope(actor, contract.branch_id)
    if not is_operations_officer(actor, branch_id=contract.branch_id) \
            or actor.pk in file_participant_ids(application):
        raise PermissionDenied(_("Only a loan operations officer independent of this file "
                                 "requests drawdowns."))
    if contract.state != ContractState.SIGNED:
        raise TransitionConflict(detail=_("Drawdowns are only made under a signed contract."))
    _conditions_block(contract)

    errors: dict[str, str] = {}
    today = timezone.localdate()
    amount = _clean_amount(amount)
    undrawn = undrawn_amount(contract)
    if amount is None or amount <= 0:
        errors["amount"] = _("Enter an amount above zero.")
    elif amount != amount.quantize(FEN):
        errors["amount"] = _("At most two decimals (fen).")
    elif amount > undrawn:
        errors["amount"] = _("At most the undrawn amount, %(undrawn)s (pending requests "
                             "count).") % {"undrawn": f"{undrawn:,.2f}"}
    if value_date is None or (value_date < today and not allow_past_value_date):
        errors["value_date"] = _("The value date cannot be in the past.")
    borrower_account = (borrower_account or "").strip()
    if not borrower_account:
        errors["borrower_account"] = _("Enter the borrower's account.")
    threshold, policy = entrusted_payment_threshold(
        product_code=application.product_version.product.code, on=today)
    invoice = None
    if payment_mode not in PaymentMode.values:
        errors["payment_mode"] = _("Choose entrusted or independent payment.")
    elif payment_mode == PaymentMode.INDEPENDENT:
        if amount is not None and threshold is not None and amount > threshold:
            errors["payment_mode"] = _(
                "Above %(threshold)s a single payment must be entrusted (受托支付).") % {
                "threshold": f"{threshold:,.0f}"}
        payee_name = payee_account = ""
        invoice_document_id = None
    else:
        if not payee_name.strip():
            errors["payee_name"] = _("Entrusted payment needs the payee's name.")
        if not payee_account.strip():
            errors["payee_account"] = _("Entrusted payment needs the payee's account.")
        if invoice_document_id is None:
            errors["invoice_document_id"] = _(
                "Entrusted payment needs the invoice or underlying contract.")
        else:
            from apps.documents.models import Document

            invoice = Document.objects.filter(pk=invoice_document_id,
                                              application=application).first()
            if invoice is None:
                errors["invoice_document_id"] = _("Choose a document of this application.")
    method, rows = contract.repayment_method, []
    if schedule_file is not None and amount is not None and value_date is not None \
            and "amount" not in errors:
        try:
            parsed = parse_irregular(name=schedule_file.name, content=schedule_file.read(),
                                     amount=amount, value_date=value_date)
            method = ScheduleMethod.IRREGULAR
            rows = [[d.isoformat(), str(p)] for d, p in parsed]
        except ScheduleUploadError as refused:
            errors["schedule_file"] = "; ".join(
                _("line %(line)s, %(field)s: %(reason)s") % e.as_dict()
                for e in refused.errors)
    if errors:
        raise ValidationError(errors)

    disbursement = Disbursement.objects.create(
        contract=contract, amount=amount, value_date=value_date,
        borrower_account=borrower_account, payment_mode=payment_mode,
        payee_name=payee_name.strip(), payee_account=payee_account.strip(),
        invoice_document=invoice, requested_by=actor, repayment_method=method,
        irregular_rows=rows)
    audit_record(action="disbursement.requested", actor=actor, subject=disbursement,
                 application_id=application.pk, branch_id=contract.branch_id, payload={
                     "contract_number": contract.contract_number, "amount": amount,
                     "undrawn_before": undrawn, "value_date": value_date.isoformat(),
                     "payment_mode": payment_mode, "payee": disbursement.payee_name,
                     "invoice_document": getattr(invoice, "pk", None),
                     "entrusted_policy": policy, "method": method,
                     **_back_dated(value_date, today)})
    return disbursement


def _back_dated(value_date: dt.date, today: dt.date) -> dict:
    """The audit mark of a drawdown booked with a value date already past (else nothing)."""
    if value_date >= today:
        return {}
    return {"back_dated": True, "days_back": (today - value_date).days}


def _lock_pair(disbursement_id: int) -> tuple[LoanContract, Disbursement]:
    """Contract first, then the request: the same order as `disbursement_request`."""
    contract_id = Disbursement.objects.filter(pk=disbursement_id).values_list(
        "contract_id", flat=True).get()
    contract = _lock_contract(contract_id)
    disbursement = Disbursement.objects.select_for_update(no_key=True).get(pk=disbursement_id)
    disbursement.contract = contract
    return contract, disbursement


def loan_number_for(contract: LoanContract) -> str:
    """JJ + the contract's reference + the drawdown's sequence under it (under the lock)."""
    return f"JJ{contract.contract_number[2:]}-{contract.loans.count() + 1:02d}"


@transaction.atomic
def disbursement_approve(*, disbursement_id: int, actor: User, note: str = "",
                         allow_past_value_date: bool = False) -> Loan:
    """The checker approves a pending tranche: a second operations officer, never the maker
    nor anyone who took part in the credit decision (403). Conditions precedent are asked
    again (409); the value date must not have passed (409: withdraw and request again),
    unless `allow_past_value_date` (the migration and demo path of `disbursement_request`):
    the loan is then booked as of its past value date and the audit events say so.

    Books the loan note: officer = the file's account manager (answerable after
    disbursement), outstanding = amount, the schedule stored as version 1; a loan whose value
    date is today is active at once. The first drawdown moves the application to
    `disbursed` through its own transition.
    """
    contract, disbursement = _lock_pair(disbursement_id)
    check_in_scope(actor, contract.branch_id)
    transition_check(disbursement.approve, actor=actor)
    _conditions_block(contract)
    today = timezone.localdate()
    if disbursement.value_date < today and not allow_past_value_date:
        raise TransitionConflict(detail=_("The value date has passed: withdraw this request "
                                          "and ask again with a new date."))
    if contract.state != ContractState.SIGNED:
        raise TransitionConflict(detail=_("The contract is no longer open for drawdowns."))
    # Defence in depth: approved drawdowns alone never exceed the contract.
    approved = contract.disbursements.filter(state=DisbursementState.APPROVED).aggregate(
        total=Sum("amount"))["total"] or Decimal(0)
    if approved + disbursement.amount > contract.amount:
        raise DisbursementBlocked(_("This tranche would exceed the contract amount."))

    disbursement.approve(by=actor, at=timezone.now(), note=note.strip())
    disbursement.save()
    application = contract.application
    loan = Loan.objects.create(
        loan_number=loan_number_for(contract), contract=contract, disbursement=disbursement,
        application=application, enterprise_id=contract.enterprise_id,
        branch_id=contract.branch_id, product_version_id=application.product_version_id,
        officer_id=application.account_manager_id, currency=contract.currency,
        principal=disbursement.amount, annual_rate=contract.annual_rate,
        day_count=contract.day_count,
        repayment_method=disbursement.repayment_method or contract.repayment_method,
        payment_mode=disbursement.payment_mode, value_date=disbursement.value_date,
        maturity_date=add_months(disbursement.value_date, contract.term_months),
        outstanding_principal=disbursement.amount)
    rows = [(dt.date.fromisoformat(d), Decimal(p)) for d, p in disbursement.irregular_rows]
    instalments = schedule_generate(loan=loan, version=1, amount=loan.principal,
                                    value_date=loan.value_date,
                                    term_months=contract.term_months, principal_rows=rows or None)
    if rows:  # an uploaded table sets its own maturity
        loan.maturity_date = instalments[-1].due_date
        loan.save(update_fields=["maturity_date", "updated_at"])
    audit_record(action="disbursement.approved", actor=actor, subject=disbursement,
                 application_id=application.pk, branch_id=contract.branch_id, payload={
                     "contract_number": contract.contract_number, "amount": disbursement.amount,
                     "requested_by": disbursement.requested_by_id, "note": note.strip(),
                     "loan_number": loan.loan_number,
                     **_back_dated(disbursement.value_date, today)})
    audit_record(action="loan.booked", actor=actor, subject=loan, payload={
        "loan_number": loan.loan_number, "contract_number": contract.contract_number,
        "principal": loan.principal, "value_date": loan.value_date.isoformat(),
        "maturity_date": loan.maturity_date.isoformat(), "method": loan.repayment_method,
        "instalments": len(instalments), "officer": loan.officer_id,
        **_back_dated(loan.value_date, today)})
    if application.state == ApplicationState.CONTRACTED:
        application_disburse(application_id=application.pk, actor=actor,
                             comment=loan.loan_number)
    if loan.value_date <= today:
        from apps.loans.services.lifecycle import loan_activate

        loan_activate(loan_id=loan.pk)
        loan.refresh_from_db()
    return loan


@transaction.atomic
def disbursement_reject(*, disbursement_id: int, actor: User, note: str) -> Disbursement:
    """The checker refuses a pending tranche, saying why; its amount is undrawn again."""
    contract, disbursement = _lock_pair(disbursement_id)
    check_in_scope(actor, contract.branch_id)
    transition_check(disbursement.reject, actor=actor)
    if not note.strip():
        raise ValidationError({"note": _("Say why the drawdown is rejected.")})
    disbursement.reject(by=actor, at=timezone.now(), note=note.strip())
    disbursement.save()
    audit_record(action="disbursement.rejected", actor=actor, subject=disbursement,
                 application_id=contract.application_id, branch_id=contract.branch_id,
                 payload={"contract_number": contract.contract_number,
                          "amount": disbursement.amount, "note": note.strip()})
    return disbursement


@transaction.atomic
def disbursement_cancel(*, disbursement_id: int, actor: User, note: str = "") -> Disbursement:
    """The maker withdraws a pending request; its amount is undrawn again."""
    contract, disbursement = _lock_pair(disbursement_id)
    check_in_scope(actor, contract.branch_id)
    transition_check(disbursement.cancel, actor=actor)
    disbursement.cancel(at=timezone.now(), note=note.strip())
    disbursement.save()
    audit_record(action="disbursement.cancelled", actor=actor, subject=disbursement,
                 application_id=contract.application_id, branch_id=contract.branch_id,
                 payload={"contract_number": contract.contract_number,
                          "amount": disbursement.amount, "note": note.strip()})
    return disbursement
