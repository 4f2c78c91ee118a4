"""Loans for servicing tests, made as rows directly (the origination services that book
them live on another branch): enterprise → application → contract → disbursement → loan, with
an equal-principal monthly schedule."""

import datetime as dt
import itertools
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.demo.seed import seed_demo
from apps.loans.models import Disbursement, Loan, LoanContract, ScheduleInstalment
from apps.loans.states import LoanState
from apps.org.models import Branch
from apps.parties.tests.factories import EnterpriseFactory
from apps.products.models import ProductVersion
from apps.products.seed import seed_products

_numbers = itertools.count(1)


class ServicingWorld:
    """The demo staff and products, and a way to book loans in any state."""

    def __init__(self):
        seed_demo()
        seed_products(effective_from=timezone.localdate() - dt.timedelta(days=400))
        self.north = Branch.objects.get(code="north")
        self.south = Branch.objects.get(code="south")
        self.version = ProductVersion.objects.get(product__code="tax-credit-loan", version=1)

    def user(self, username: str) -> User:
        return User.objects.get(username=username)

    @transaction.atomic  # a booked loan asks for its inspection schedule through the outbox
    def loan(self, *, branch=None, value_date: dt.date | None = None, months: int = 3,
             principal: Decimal = Decimal("3000.00"), interest: Decimal = Decimal("50.00"),
             state: str = LoanState.ACTIVE, number: str | None = None) -> Loan:
        """A booked loan of `principal` repaid in `months` equal monthly instalments (each
        due 30 days after the previous), plus `interest` per instalment."""
        branch = branch or self.north
        value_date = value_date or timezone.localdate() - dt.timedelta(days=100)
        n = next(_numbers)
        ops, am = self.user(f"ops.{branch.code}"), self.user(f"am.{branch.code}")
        enterprise = EnterpriseFactory(branch=branch, annual_revenue=Decimal("3000000"))
        application = Application.objects.create(
            reference=f"SV{n:06d}-{value_date:%y%m%d}"[:20], enterprise=enterprise,
            product_version=self.version, branch=branch, account_manager=am,
            amount_requested=principal, term_months=months)
        contract = LoanContract.objects.create(
            application=application, contract_number=f"C-SV-{n:06d}", branch=branch,
            enterprise=enterprise, amount=principal, annual_rate=Decimal("4.350"),
            term_months=months, repayment_method="equal_principal", collateral_type="none",
            created_by=ops)
        disbursement = Disbursement.objects.create(
            contract=contract, amount=principal, value_date=value_date,
            borrower_account="6222000000000001", payment_mode="independent",
            requested_by=ops)
        loan = Loan.objects.create(
            loan_number=number or f"L-SV-{n:06d}", contract=contract, disbursement=disbursement,
            application=application, enterprise=enterprise, branch=branch,
            product_version=self.version, officer=am, state=state, principal=principal,
            annual_rate=Decimal("4.350"), repayment_method="equal_principal",
            payment_mode="independent", value_date=value_date,
            maturity_date=value_date + dt.timedelta(days=30 * months),
            outstanding_principal=principal)
        per = (principal / months).quantize(Decimal("0.01"))
        ScheduleInstalment.objects.bulk_create([
            ScheduleInstalment(loan=loan, number=k, due_date=value_date + dt.timedelta(days=30 * k),
                               principal=per if k < months else principal - per * (months - 1),
                               interest=interest, effective_from=value_date)
            for k in range(1, months + 1)])
        return loan
