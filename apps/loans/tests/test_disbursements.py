import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.applications.states import ApplicationState as S
from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError, TransitionConflict
from apps.investigations.models import PolicyValue
from apps.loans.models import Loan, PaymentMode
from apps.loans.services.common import ENTRUSTED_THRESHOLD_KEY
from apps.loans.services.disbursements import (
    disbursement_approve,
    disbursement_cancel,
    disbursement_reject,
    undrawn_amount,
)
from apps.loans.states import DisbursementState, LoanState


def test_two_tranches_book_two_loans_and_the_first_disburses_the_file(world):
    contract = world.contract()
    first = world.loan(contract, "200000.00")
    contract.application.refresh_from_db()
    assert contract.application.state == S.DISBURSED
    second = world.loan(contract, "100000.00")
    assert [first.loan_number, second.loan_number] == [
        f"JJ{contract.contract_number[2:]}-01", f"JJ{contract.contract_number[2:]}-02"]
    assert first.officer_id == contract.application.account_manager_id
    assert first.outstanding_principal == first.principal == Decimal("200000.00")
    assert first.state == LoanState.ACTIVE  # value date today
    assert sum(i.principal for i in first.instalments.all()) == Decimal("200000.00")
    assert first.instalments.count() == contract.term_months
    assert undrawn_amount(contract) == contract.amount - Decimal("300000.00")
    assert AuditEvent.objects.filter(action="loan.booked").count() == 2
    assert AuditEvent.objects.filter(action="application.disbursed",
                                     application_id=contract.application_id).count() == 1


def test_pending_requests_count_against_the_undrawn_amount(world):
    contract = world.contract()
    world.request(contract, str(contract.amount - Decimal("1000")))
    with pytest.raises(ValidationError) as caught:
        world.request(contract, "1000.01")
    assert "amount" in caught.value.message_dict
    world.request(contract, "1000.00")
    assert undrawn_amount(contract) == 0


def test_four_eyes_and_independence(world):
    contract = world.contract()
    request = world.request(contract)
    for username in ("ops.north", "am.north", "ops.south", "approver.north"):
        with pytest.raises((PermissionDenied, TransitionConflict)):
            disbursement_approve(disbursement_id=request.pk, actor=world.user(username))
    with pytest.raises(PermissionDenied):
        disbursement_cancel(disbursement_id=request.pk, actor=world.checker)
    with pytest.raises(ValidationError):
        disbursement_reject(disbursement_id=request.pk, actor=world.checker, note=" ")
    rejected = disbursement_reject(disbursement_id=request.pk, actor=world.checker,
                                   note="Account number does not match the contract.")
    assert rejected.state == DisbursementState.REJECTED
    with pytest.raises(TransitionConflict):
        disbursement_approve(disbursement_id=request.pk, actor=world.checker)
    other = world.request(contract)
    assert disbursement_cancel(disbursement_id=other.pk, actor=world.maker).state \
        == DisbursementState.CANCELLED
    assert undrawn_amount(contract) == contract.amount and not Loan.objects.exists()


def test_entrusted_payment_rules(world):
    contract = world.contract()
    PolicyValue.objects.create(key=f"{ENTRUSTED_THRESHOLD_KEY}.tax-credit-loan", version=1,
                               value=Decimal("50000"), effective_from=dt.date(2024, 1, 1),
                               evidence="G")
    with pytest.raises(ValidationError) as caught:
        world.request(contract, "60000.00")
    assert "payment_mode" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        world.request(contract, "60000.00", payment_mode=PaymentMode.ENTRUSTED)
    assert {"payee_name", "payee_account", "invoice_document_id"} <= set(
        caught.value.message_dict)
    world.request(contract, "50000.00")  # at the threshold: independent allowed


def test_value_date_and_conditions(world):
    contract = world.contract()
    with pytest.raises(ValidationError) as caught:
        world.request(contract, value_date=timezone.localdate() - dt.timedelta(days=1))
    assert "value_date" in caught.value.message_dict
    future = world.request(contract, value_date=timezone.localdate() + dt.timedelta(days=3))
    loan = disbursement_approve(disbursement_id=future.pk, actor=world.checker)
    assert loan.state == LoanState.PENDING
    from apps.approvals.models import ConditionPrecedent

    ConditionPrecedent.objects.create(application=contract.application,
                                      route=contract.application.approval_routes.get(),
                                      text="Insurance assigned", added_by=world.maker)
    with pytest.raises(DomainError) as caught:
        world.request(contract)
    assert caught.value.status_code == 409


def test_irregular_schedule_upload(world):
    contract = world.contract()
    today = timezone.localdate()
    body = (f"due_date,principal\n{today + dt.timedelta(days=40)},30000\n"
            f"{today + dt.timedelta(days=100)},70000\n").encode()
    loan = world.loan(contract, "100000.00",
                      schedule_file=SimpleUploadedFile("plan.csv", body))
    assert loan.repayment_method == "irregular"
    assert [i.principal for i in loan.instalments.all()] == [Decimal("30000.00"),
                                                             Decimal("70000.00")]
    assert loan.maturity_date == today + dt.timedelta(days=100)
    with pytest.raises(ValidationError) as caught:
        world.request(contract, "100000.00",
                      schedule_file=SimpleUploadedFile("plan.csv", b"due_date,principal\n"))
    assert "line 2" in caught.value.message_dict["schedule_file"][0]
