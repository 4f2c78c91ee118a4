import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import can_proceed

from apps.core.exceptions import TransitionConflict
from apps.loans.models import Disbursement, Loan, LoanChange
from apps.loans.services.disbursements import disbursement_approve
from apps.loans.services.lifecycle import (
    loan_change_approve,
    loan_change_reject,
    loan_change_request,
    loan_settle,
    loans_activate_due,
)
from apps.loans.states import DisbursementState, LoanChangeState, LoanState

L = LoanState
LOAN_ALLOWED = {
    (L.PENDING, "activate"),
    *((s, t) for s in (L.ACTIVE, L.RESTRUCTURED)
      for t in ("settle", "restructure", "write_off", "transfer")),
}
D = DisbursementState
DISBURSEMENT_ALLOWED = {(D.REQUESTED, t) for t in ("approve", "reject", "cancel")}


def test_loan_transition_table():
    for state in LoanState:
        loan = Loan()
        loan.__dict__["state"] = state
        for name in ("activate", "settle", "restructure", "write_off", "transfer"):
            assert can_proceed(getattr(loan, name), check_conditions=False) \
                == ((state, name) in LOAN_ALLOWED), (state, name)


def test_disbursement_and_change_transition_tables():
    for state in DisbursementState:
        item = Disbursement()
        item.__dict__["state"] = state
        for name in ("approve", "reject", "cancel"):
            assert can_proceed(getattr(item, name), check_conditions=False) \
                == ((state, name) in DISBURSEMENT_ALLOWED), (state, name)
    for state in LoanChangeState:
        change = LoanChange()
        change.__dict__["state"] = state
        for name in ("approve", "reject"):
            assert can_proceed(getattr(change, name), check_conditions=False) \
                == (state == LoanChangeState.REQUESTED)


def test_activation_sweep_is_idempotent_and_waits_for_the_value_date(world):
    contract = world.contract()
    today = timezone.localdate()
    request = world.request(contract, value_date=today + dt.timedelta(days=2))
    loan = disbursement_approve(disbursement_id=request.pk, actor=world.checker)
    assert loan.state == L.PENDING
    assert loans_activate_due(today=today) == 0
    Loan.objects.filter(pk=loan.pk).update(value_date=today)
    assert loans_activate_due() == 1
    assert loans_activate_due() == 0
    loan.refresh_from_db()
    assert loan.state == L.ACTIVE


def test_settle_only_when_nothing_is_outstanding(world):
    loan = world.loan()
    with pytest.raises(TransitionConflict):
        loan_settle(loan_id=loan.pk)
    Loan.objects.filter(pk=loan.pk).update(outstanding_principal=0)
    assert loan_settle(loan_id=loan.pk).state == L.SETTLED
    assert loan_settle(loan_id=loan.pk) is None  # idempotent


def test_restructure_is_four_eyes_and_writes_a_new_schedule_version(world):
    loan = world.loan(amount="120000.00")
    Loan.objects.filter(pk=loan.pk).update(outstanding_principal=Decimal("90000.00"))
    with pytest.raises(ValidationError):
        loan_change_request(loan_id=loan.pk, actor=world.maker, kind="restructure",
                            reason="Seasonal cash shortfall", terms={"term_months": 0})
    change = loan_change_request(loan_id=loan.pk, actor=world.maker, kind="restructure",
                                 reason="Seasonal cash shortfall",
                                 terms={"term_months": 18, "annual_rate": "4.2",
                                        "method": "equal_principal"})
    with pytest.raises(TransitionConflict):  # one open request per loan
        loan_change_request(loan_id=loan.pk, actor=world.checker, kind="write_off",
                            reason="x")
    with pytest.raises(PermissionDenied):
        loan_change_approve(change_id=change.pk, actor=world.maker)
    loan = loan_change_approve(change_id=change.pk, actor=world.checker, note="Agreed")
    assert loan.state == L.RESTRUCTURED and loan.schedule_version == 2
    assert loan.annual_rate == Decimal("4.200") and loan.repayment_method == "equal_principal"
    new = loan.instalments.filter(version=2)
    assert new.count() == 18 and sum(i.principal for i in new) == Decimal("90000.00")
    assert loan.instalments.filter(version=1).count() == 12  # the old schedule is kept


def test_write_off_and_transfer(world):
    contract = world.contract()
    first, second = world.loan(contract, "1000.00"), world.loan(contract, "2000.00")
    change = loan_change_request(loan_id=first.pk, actor=world.maker, kind="write_off",
                                 reason="Borrower insolvent; recovery through the court")
    rejected = loan_change_reject(change_id=change.pk, actor=world.checker, note="Not yet")
    assert rejected.state == LoanChangeState.REJECTED
    change = loan_change_request(loan_id=first.pk, actor=world.maker, kind="write_off",
                                 reason="Borrower insolvent; recovery through the court")
    assert loan_change_approve(change_id=change.pk, actor=world.checker).state == L.WRITTEN_OFF
    change = loan_change_request(loan_id=second.pk, actor=world.checker, kind="transfer",
                                 reason="Sold to an asset-management company")
    loan = loan_change_approve(change_id=change.pk, actor=world.maker)
    assert loan.state == L.TRANSFERRED and loan.closed_reason.startswith("Sold")


def _shift_back(loan, days: int) -> None:
    """Book the loan `days` earlier: value date, schedule and its first day in force."""
    from django.db.models import F

    from apps.loans.models import ScheduleInstalment

    back = dt.timedelta(days=days)
    Loan.objects.filter(pk=loan.pk).update(value_date=F("value_date") - back,
                                           maturity_date=F("maturity_date") - back)
    ScheduleInstalment.objects.filter(loan=loan).update(
        due_date=F("due_date") - back, effective_from=F("effective_from") - back)


def test_restructuring_cures_the_arrears_from_today_and_keeps_the_history(world):
    from apps.core.models import OutboxMessage
    from apps.core.task_names import TaskName
    from apps.loans.dpd_store import dpd_recompute

    today = timezone.localdate()
    loan = world.loan(amount="120000.00")
    _shift_back(loan, 75)  # two monthly instalments missed
    dpd_recompute(loan_ids=[loan.pk], as_of=today)
    loan.refresh_from_db()
    before = list(loan.dpd_history.values_list("as_of", "dpd_principal", "dpd_interest"))
    assert loan.dpd > 30 and before and loan.overdue_principal > 0
    change = loan_change_request(loan_id=loan.pk, actor=world.maker, kind="restructure",
                                 reason="Arrears capitalised over a longer term",
                                 terms={"term_months": 24, "method": "equal_principal"})
    loan = loan_change_approve(change_id=change.pk, actor=world.checker, note="Agreed")
    # Current against the new schedule from today; the history before today unchanged.
    assert (loan.dpd_principal, loan.dpd_interest, loan.dpd_as_of) == (0, 0, today)
    assert (loan.overdue_principal, loan.overdue_interest) == (0, 0)
    assert set(loan.instalments.filter(version=2).values_list("effective_from", flat=True)) \
        == {today}
    after = list(loan.dpd_history.values_list("as_of", "dpd_principal", "dpd_interest"))
    assert after == [*before, (today, 0, 0)]
    # Monitoring is asked, after commit, to record the restructuring's day.
    assert OutboxMessage.objects.filter(task_name=TaskName.MONITORING_RESTRUCTURINGS_RECORD,
                                        kwargs={"loan_id": loan.pk}).exists()
