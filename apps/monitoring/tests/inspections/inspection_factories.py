"""Loans built directly (the loan book's own services are another developer's), and the
post-loan templates and schedule policies seeded as in production."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.investigations.models import PolicyValue
from apps.loans.models import Disbursement, Loan, LoanContract
from apps.monitoring.inspection_seed import seed_inspection_templates

_numbers = itertools.count(1)


@transaction.atomic  # a booked loan asks for its inspection schedule through the outbox
def make_loan(world, *, value_date: dt.date | None = None, months: int = 12,
              maturity_date: dt.date | None = None, branch: str = "north",
              officer: str | None = None, payment_mode: str = "entrusted") -> Loan:
    """A booked loan of a draft application in `branch`, without going through the loan
    book's services (its state machine is being built elsewhere)."""
    from apps.monitoring.schedule_policy import add_months

    seed_inspection_templates()
    value_date = value_date or timezone.localdate()
    maturity_date = maturity_date or add_months(value_date, months)
    branch_obj = world.north if branch == "north" else world.south
    application = world.draft(enterprise=world.enterprise(branch=branch_obj)) \
        if branch == "north" else _south_draft(world, branch_obj)
    n = next(_numbers)
    ops = world.user(f"ops.{branch}")
    contract = LoanContract.objects.create(
        application=application, contract_number=f"C-T-{n}-{application.pk}",
        branch=branch_obj, enterprise=application.enterprise, amount=Decimal("500000"),
        annual_rate=Decimal("4.350"), term_months=months, repayment_method="equal_instalment",
        collateral_type="none", created_by=ops)
    disbursement = Disbursement.objects.create(
        contract=contract, amount=Decimal("500000"), value_date=value_date,
        borrower_account="6222000011112222", payment_mode=payment_mode, requested_by=ops)
    return Loan.objects.create(
        loan_number=f"L-T-{n}-{application.pk}", contract=contract, disbursement=disbursement,
        application=application, enterprise=application.enterprise, branch=branch_obj,
        product_version=application.product_version,
        officer=world.user(officer or f"postloan.{branch}"), principal=Decimal("500000"),
        annual_rate=Decimal("4.350"), repayment_method="equal_instalment",
        payment_mode=payment_mode, value_date=value_date, maturity_date=maturity_date,
        outstanding_principal=Decimal("500000"))


def _south_draft(world, branch):
    from apps.applications import services
    from apps.applications.tests.factories import TERMS

    return services.application_create(
        enterprise=world.enterprise(branch=branch), product_version=world.version,
        actor=world.user("am.south"), **TERMS)


def policy_version(key: str, value: str, *, effective_from: dt.date) -> PolicyValue:
    """A new version of a schedule policy value, in force from `effective_from`."""
    latest = PolicyValue.objects.filter(key=key).order_by("-version").first()
    return PolicyValue.objects.create(
        key=key, value=Decimal(value), unit=latest.unit if latest else "",
        effective_from=effective_from, version=(latest.version + 1) if latest else 1,
        evidence="G", source_citation="test")


M1_ANSWERS = {
    "PLACE": "Workshop at 12 Harbour Road",
    "RECEIVED_BY": "Ms Li, finance manager",
    "COOPERATION": "cooperative",
    "PREMISES_CHANGED": False,
    "FUNDS_EXPLANATION": "Paid the steel supplier 480,000 on the value date for the spring "
                         "orders; the goods are in the warehouse.",
    "FUNDS_SOURCES": ["payment_voucher", "site_observation"],
    "FUNDS_AS_AGREED": True,
    "PAYEE_MATCHES": True,
}
M1_NOT_APPLICABLE = {"PAYMENT_EVIDENCE": "Vouchers kept in the core imaging system",
                     "SITE_PHOTOS": "Photos kept in the core imaging system"}


def answer_all_m1(inspection, officer, **overrides) -> None:
    from apps.monitoring.inspection_services import inspection_answer_save

    for code, value in {**M1_ANSWERS, **overrides}.items():
        inspection_answer_save(inspection_id=inspection.pk, item_code=code, value=value,
                               actor=officer)
    for code, reason in M1_NOT_APPLICABLE.items():
        inspection_answer_save(inspection_id=inspection.pk, item_code=code, not_applicable=True,
                               na_reason=reason, actor=officer)
