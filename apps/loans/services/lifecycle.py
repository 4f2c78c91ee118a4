"""The loan note's lifecycle after booking: activation on the value date, settlement, and the
four-eyes changes (restructure, write off, transfer). Delinquency is not a state: days past due
are figures recomputed by the servicing side (`apps.loans.dpd*`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import transition_check
from apps.loans.dpd_store import dpd_recompute
from apps.loans.models import Loan, LoanChange, ScheduleMethod
from apps.loans.permissions import file_participant_ids, is_operations_officer
from apps.loans.services.common import check_in_scope
from apps.loans.services.schedules import schedule_generate
from apps.loans.states import LoanState

CHANGEABLE = (LoanState.ACTIVE, LoanState.RESTRUCTURED)
DPD_FIELDS = ("dpd_principal", "dpd_interest", "dpd_as_of", "overdue_principal",
              "overdue_interest", "outstanding_principal", "updated_at")


def _lock_loan(loan_id: int) -> Loan:
    return Loan.objects.select_for_update(no_key=True).get(pk=loan_id)


def _audit_move(loan: Loan, *, action: str, actor, source: str, **extra) -> None:
    audit_record(action=action, actor=actor, subject=loan, payload={
        "loan_number": loan.loan_number, "from": source, "to": loan.state, **extra})


@transaction.atomic
def loan_activate(*, loan_id: int) -> Loan | None:
    """System move: a pending loan whose value date has come becomes active. Idempotent: a
    loan already active (or not yet due) is left as it is and None returned."""
    loan = _lock_loan(loan_id)
    if loan.state != LoanState.PENDING or loan.value_date > timezone.localdate():
        return None
    loan.activate()
    loan.save()
    _audit_move(loan, action="loan.activated", actor=None, source=LoanState.PENDING,
                value_date=loan.value_date.isoformat())
    return loan


def loans_activate_due(*, today: dt.date | None = None) -> int:
    """The daily sweep: activate every pending loan whose value date is today or earlier,
    each in its own transaction (one failure does not hold back the rest). Returns how many
    moved; running it twice moves nothing the second time."""
    today = today or timezone.localdate()
    ids = list(Loan.objects.filter(state=LoanState.PENDING, value_date__lte=today)
               .order_by("pk").values_list("pk", flat=True))
    moved = 0
    for loan_id in ids:
        if loan_activate(loan_id=loan_id) is not None:
            moved += 1
    return moved


@transaction.atomic
def loan_settle(*, loan_id: int, actor: User | None = None, on: dt.date | None = None,
                reason: str = "") -> Loan | None:
    """Close a loan repaid in full (outstanding principal 0, as the core system reported).
    Called by the servicing feed; idempotent: an already settled loan returns None. A loan
    with principal outstanding is refused (409)."""
    loan = _lock_loan(loan_id)
    if loan.state == LoanState.SETTLED:
        return None
    if loan.state not in CHANGEABLE:
        raise TransitionConflict(detail=_("Only an active or restructured loan is settled."))
    if loan.outstanding_principal != 0:
        raise TransitionConflict(detail=_("Principal is still outstanding."))
    source = loan.state
    loan.settle(on=on or timezone.localdate(), reason=reason or _("Repaid in full."))
    loan.save()
    _audit_move(loan, action="loan.settled", actor=actor, source=source,
                closed_at=loan.closed_at.isoformat())
    return loan


# --- four-eyes changes -------------------------------------------------------------------------

def _clean_restructure_terms(loan: Loan, terms: dict) -> dict:
    """Rate (percent a year), term in months from today, and the method of the new schedule."""
    errors, clean = {}, {}
    try:
        rate = Decimal(str(terms.get("annual_rate", loan.annual_rate)))
        if not Decimal(0) <= rate <= Decimal(36):
            raise InvalidOperation
        clean["annual_rate"] = str(rate.quantize(Decimal("0.001")))
    except (InvalidOperation, ValueError):
        errors["annual_rate"] = _("Enter a rate between 0 and 36 (% a year).")
    try:
        term = int(terms.get("term_months"))
        if not 1 <= term <= 360:
            raise ValueError
        clean["term_months"] = term
    except (TypeError, ValueError):
        errors["term_months"] = _("Enter the new term, 1 to 360 months.")
    method = terms.get("method") or loan.repayment_method
    if method not in (ScheduleMethod.EQUAL_INSTALMENT, ScheduleMethod.EQUAL_PRINCIPAL,
                      ScheduleMethod.INTEREST_ONLY_BULLET):
        errors["method"] = _("Choose equal instalments, equal principal or interest-only.")
    clean["method"] = method
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def loan_change_request(*, loan_id: int, actor: User, kind: str, reason: str,
                        terms: dict | None = None) -> LoanChange:
    """The maker asks to restructure, write off or transfer an open loan, with a reason (and
    new terms for a restructuring). One open request per loan (409 for a second)."""
    loan = _lock_loan(loan_id)
    check_in_scope(actor, loan.branch_id)
    if not is_operations_officer(actor, branch_id=loan.branch_id) \
            or actor.pk in file_participant_ids(loan.application):
        raise PermissionDenied(_("Only a loan operations officer independent of this file "
                                 "asks for this."))
    if loan.state not in CHANGEABLE:
        raise TransitionConflict(detail=_("Only an active or restructured loan can be changed."))
    if kind not in LoanChange.Kind.values:
        raise ValidationError({"kind": _("Choose restructure, write off or transfer.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    clean = _clean_restructure_terms(loan, terms or {}) \
        if kind == LoanChange.Kind.RESTRUCTURE else {}
    if kind == LoanChange.Kind.RESTRUCTURE and loan.outstanding_principal <= 0:
        raise TransitionConflict(detail=_("Nothing is outstanding to restructure."))
    try:
        with transaction.atomic():
            change = LoanChange.objects.create(
                loan=loan, application_id=loan.application_id, branch_id=loan.branch_id,
                kind=kind, reason=reason.strip(), terms=clean, requested_by=actor)
    except IntegrityError:
        raise TransitionConflict(detail=_("A change to this loan is already waiting for "
                                          "approval.")) from None
    audit_record(action="loan_change.requested", actor=actor, subject=change, payload={
        "loan_number": loan.loan_number, "kind": kind, "reason": change.reason,
        "terms": clean})
    return change


def _lock_change(change_id: int) -> tuple[Loan, LoanChange]:
    loan_id = LoanChange.objects.filter(pk=change_id).values_list("loan_id", flat=True).get()
    loan = _lock_loan(loan_id)
    return loan, LoanChange.objects.select_for_update(no_key=True).get(pk=change_id)


@transaction.atomic
def loan_change_approve(*, change_id: int, actor: User, note: str = "") -> Loan:
    """The checker (a second officer, never the maker) approves: the loan moves. A
    restructuring writes schedule version n+1 from today on the outstanding principal (in
    force from today) and recomputes days past due from today; the earlier versions stay for
    the record and for the history before today. Monitoring records the restructuring's day
    from the transition (its receiver sends a task after this commits)."""
    loan, change = _lock_change(change_id)
    check_in_scope(actor, loan.branch_id)
    transition_check(change.approve, actor=actor)
    if loan.state not in CHANGEABLE:
        raise TransitionConflict(detail=_("The loan is no longer open."))
    today, source = timezone.localdate(), loan.state
    change.approve(by=actor, at=timezone.now(), note=note.strip())
    change.save()
    extra: dict = {"change": change.pk, "reason": change.reason,
                   "requested_by": change.requested_by_id}
    if change.kind == LoanChange.Kind.RESTRUCTURE:
        from apps.loans.schedules import add_months

        terms = change.terms
        version = loan.schedule_version + 1
        loan.restructure(schedule_version=version, rate=Decimal(terms["annual_rate"]),
                         repayment_method=terms["method"],
                         maturity_date=add_months(today, terms["term_months"]))
        loan.save()
        schedule_generate(loan=loan, version=version, amount=loan.outstanding_principal,
                          value_date=today, term_months=terms["term_months"])
        # In force from today: the arrears it capitalises are cured from today on, the history
        # before stays (apps.loans.dpd, "Restructuring"). Recomputed now, as the feed does
        # from the first day it touches, so the loan page and lists show it at once.
        dpd_recompute(loan_ids=[loan.pk], as_of=today, first_affected={loan.pk: today})
        loan.refresh_from_db(fields=DPD_FIELDS)
        _audit_move(loan, action="loan.restructured", actor=actor, source=source,
                    schedule_version=version, terms=terms, **extra)
    elif change.kind == LoanChange.Kind.WRITE_OFF:
        loan.write_off(on=today, reason=change.reason)
        loan.save()
        _audit_move(loan, action="loan.written_off", actor=actor, source=source,
                    outstanding=loan.outstanding_principal, **extra)
    else:
        loan.transfer(on=today, reason=change.reason)
        loan.save()
        _audit_move(loan, action="loan.transferred", actor=actor, source=source,
                    outstanding=loan.outstanding_principal, **extra)
    audit_record(action="loan_change.approved", actor=actor, subject=change, payload={
        "loan_number": loan.loan_number, "kind": change.kind, "note": change.decision_note})
    return loan


@transaction.atomic
def loan_change_reject(*, change_id: int, actor: User, note: str) -> LoanChange:
    """The checker refuses the change, saying why; the loan is unchanged."""
    loan, change = _lock_change(change_id)
    check_in_scope(actor, loan.branch_id)
    transition_check(change.reject, actor=actor)
    if not note.strip():
        raise ValidationError({"note": _("Say why the change is rejected.")})
    change.reject(by=actor, at=timezone.now(), note=note.strip())
    change.save()
    audit_record(action="loan_change.rejected", actor=actor, subject=change, payload={
        "loan_number": loan.loan_number, "kind": change.kind, "note": change.decision_note})
    return change
