"""Loans for monitoring tests, created directly (the loan book's transitions live in another
branch): the demo staff and products, an enterprise, an application, contract, disbursement
and a loan note in the state a test needs."""

import datetime as dt
import itertools
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.demo.seed import seed_demo
from apps.loans.models import Disbursement, Loan, LoanContract, LoanDpd
from apps.monitoring.seed import seed_monitoring
from apps.org.models import Branch
from apps.parties.tests.factories import EnterpriseFactory
from apps.products.models import ProductVersion
from apps.products.seed import seed_products

_serial = itertools.count(1)


class World:
    """Demo branches and staff (postloan.north, reviewer.north, approver.north, lead.north…),
    the seed products and the monitoring policy."""

    def __init__(self):
        seed_demo()
        seed_products(effective_from=timezone.localdate() - dt.timedelta(days=400))
        seed_monitoring()
        self.north = Branch.objects.get(code="north")
        self.south = Branch.objects.get(code="south")
        self.version = ProductVersion.objects.get(product__code="tax-credit-loan", version=1)

    def user(self, username: str) -> User:
        return User.objects.get(username=username)

    def enterprise(self, branch=None):
        return EnterpriseFactory(branch=branch or self.north)

    @transaction.atomic  # a booked loan asks for its inspection schedule through the outbox
    def loan(self, *, branch=None, enterprise=None, dpd: int = 0, outstanding="100000",
             state: str = "active", value_date: dt.date | None = None, officer=None,
             dpd_interest: int = 0) -> Loan:
        branch = branch or self.north
        enterprise = enterprise or self.enterprise(branch)
        n = next(_serial)
        manager = self.user(f"am.{branch.code}")
        officer = officer or self.user(f"postloan.{branch.code}")
        value_date = value_date or timezone.localdate() - dt.timedelta(days=400)
        application = Application.objects.create(
            reference=f"MT{n:08d}", enterprise=enterprise, product_version=self.version,
            branch=branch, account_manager=manager, created_by=manager, state="approved",
            amount_requested=Decimal(outstanding), amount_approved=Decimal(outstanding),
            term_months=24, decided_at=timezone.now() - dt.timedelta(days=410))
        contract = LoanContract.objects.create(
            application=application, contract_number=f"MC{n:08d}", branch=branch,
            enterprise=enterprise, amount=Decimal(outstanding), annual_rate=Decimal("5"),
            term_months=24, repayment_method="equal_instalment", collateral_type="none",
            created_by=manager)
        disbursement = Disbursement.objects.create(
            contract=contract, amount=Decimal(outstanding), value_date=value_date,
            borrower_account="6222000000", payment_mode="independent", requested_by=manager,
            state="approved")
        loan = Loan.objects.create(
            loan_number=f"ML{n:08d}", contract=contract, disbursement=disbursement,
            application=application, enterprise=enterprise, branch=branch,
            product_version=self.version, officer=officer, state=state,
            principal=Decimal(outstanding), annual_rate=Decimal("5"),
            repayment_method="equal_instalment", payment_mode="independent",
            value_date=value_date, maturity_date=value_date + dt.timedelta(days=730),
            outstanding_principal=Decimal(outstanding), dpd_principal=dpd,
            dpd_interest=dpd_interest, dpd_as_of=timezone.localdate())
        if dpd or dpd_interest:
            LoanDpd.objects.create(loan=loan, as_of=timezone.localdate() - dt.timedelta(
                days=max(dpd, dpd_interest)), dpd_principal=dpd, dpd_interest=dpd_interest)
        return loan
