"""Back-dated drawdowns: refused on every ordinary path, accepted only with the explicit
`allow_past_value_date` of the migration/demo path, and then marked in the audit trail."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.loans.services.disbursements import disbursement_approve
from apps.loans.states import LoanState


def _events(action: str, subject_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, subject_id=str(subject_id)))


def test_a_past_value_date_is_refused_without_the_flag(world):
    contract = world.contract()
    past = timezone.localdate() - dt.timedelta(days=90)
    with pytest.raises(ValidationError) as caught:
        world.request(contract, value_date=past)
    assert "value_date" in caught.value.message_dict
    with pytest.raises(ValidationError):
        world.request(contract, value_date=past, allow_past_value_date=False)
    # A request accepted on the migration path still needs the flag at approval.
    request = world.request(contract, value_date=past, allow_past_value_date=True)
    with pytest.raises(DomainError) as conflict:
        disbursement_approve(disbursement_id=request.pk, actor=world.checker)
    assert conflict.value.status_code == 409
    assert not contract.loans.exists()


def test_the_flag_books_the_loan_as_of_its_past_date_and_audits_it(world):
    contract = world.contract()
    today = timezone.localdate()
    past = today - dt.timedelta(days=100)
    request = world.request(contract, "120000.00", value_date=past, allow_past_value_date=True)
    loan = disbursement_approve(disbursement_id=request.pk, actor=world.checker,
                                allow_past_value_date=True)
    assert loan.value_date == past and loan.state == LoanState.ACTIVE
    assert loan.instalments.order_by("number").first().due_date < today
    for action, subject in (("disbursement.requested", request.pk),
                            ("disbursement.approved", request.pk),
                            ("loan.booked", loan.pk)):
        (event,) = _events(action, subject)
        assert event.payload["back_dated"] is True, action
        assert event.payload["days_back"] == 100, action
    # A drawdown dated today on the same path is not marked.
    current = world.request(contract, "1000.00", allow_past_value_date=True)
    (event,) = _events("disbursement.requested", current.pk)
    assert "back_dated" not in event.payload


def test_the_api_cannot_back_date(world, api_as):
    contract = world.contract()
    maker = api_as("ops.north")
    body = {"amount": "1000.00", "borrower_account": "6222020200112233",
            "payment_mode": "independent", "allow_past_value_date": True,
            "value_date": (timezone.localdate() - dt.timedelta(days=30)).isoformat()}
    refused = maker.post(f"/api/v1/contracts/{contract.pk}/disbursements/", body,
                         format="json")
    assert refused.status_code == 400 and "value_date" in refused.json()["fields"]
    assert not contract.disbursements.exists()
