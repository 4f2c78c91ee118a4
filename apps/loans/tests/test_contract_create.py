from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.applications.states import ApplicationState as S
from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError, TransitionConflict
from apps.loans.contract_template import CURRENT_VERSION
from apps.loans.models import LoanContract
from apps.loans.services.contracts import contract_create


def test_contract_takes_the_approved_terms_and_moves_the_application(world):
    application = world.approved()
    contract = contract_create(application_id=application.pk, actor=world.maker,
                               signing_mode="video", signing_witness=world.checker)
    application.refresh_from_db()
    assert application.state == S.CONTRACTED
    assert contract.contract_number == f"HT{application.reference}"
    assert contract.amount == application.amount_approved
    assert contract.annual_rate == application.rate_approved
    assert contract.term_months == application.term_months
    assert contract.day_count == application.product_version.day_count == "ACT/360"
    assert contract.template_version == CURRENT_VERSION and len(contract.template_sha256) == 64
    assert contract.signing_mode == "video" and contract.signing_witness == world.checker
    assert "conditions_precedent" in contract.conditions
    actions = list(AuditEvent.objects.filter(application_id=application.pk)
                   .values_list("action", flat=True).order_by("seq"))
    assert actions[-2:] == ["application.contracted", "contract.created"]


def test_contract_uses_the_approved_not_the_requested_amount(world):
    application = world.approved()
    type(application).objects.filter(pk=application.pk).update(
        amount_approved=Decimal("300000"))
    contract = contract_create(application_id=application.pk, actor=world.maker)
    assert contract.amount == Decimal("300000") != application.amount_requested


def test_only_independent_operations_officers_contract(world):
    application = world.approved()
    for username in ("am.north", "postloan.north", "approver.north", "ops.south"):
        with pytest.raises(PermissionDenied):
            contract_create(application_id=application.pk, actor=world.user(username))
    assert not LoanContract.objects.exists()


def test_open_condition_precedent_blocks_contracting(world):
    from apps.approvals.models import ConditionPrecedent

    application = world.approved()
    route = application.approval_routes.get()
    ConditionPrecedent.objects.create(application=application, route=route,
                                      text="Mortgage registered", added_by=world.maker)
    with pytest.raises(DomainError) as caught:
        contract_create(application_id=application.pk, actor=world.maker)
    assert caught.value.status_code == 409
    application.refresh_from_db()
    assert application.state == S.APPROVED and not LoanContract.objects.exists()


def test_second_contract_and_bad_witness_are_refused(world):
    application = world.approved()
    with pytest.raises(ValidationError) as caught:
        contract_create(application_id=application.pk, actor=world.maker,
                        signing_witness=world.maker)
    assert "signing_witness" in caught.value.message_dict
    contract_create(application_id=application.pk, actor=world.maker)
    with pytest.raises(TransitionConflict):
        contract_create(application_id=application.pk, actor=world.maker)
