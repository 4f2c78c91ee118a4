"""Loans for exemption tests. The loan services are being built elsewhere, so the rows are
made directly (as a core-banking feed would leave them), on an application walked through
the real services or made directly when its trail does not matter."""

import datetime as dt
import itertools
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.services import user_create
from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.demo.seed import DEMO_PASSWORD
from apps.loans.models import Disbursement, Loan, LoanContract
from apps.loans.states import DisbursementState, LoanState

_numbers = itertools.count(1)


def committee_member(world, username="exempt.hq", *, branch=None):
    """An exemption committee member at head office (sees every branch below it)."""
    from apps.accounts.models import User
    from apps.org.models import Branch

    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    return user_create(username=username, password=DEMO_PASSWORD,
                       branch=branch or Branch.objects.get(code="hq"),
                       roles=[Role.EXEMPTION_COMMITTEE], first_name="Exemption",
                       last_name=username)


def plain_application(world, *, branch=None, amount=Decimal("500000")) -> Application:
    """A disbursed application row without a trail (fast)."""
    from apps.applications.tests.factories import TERMS

    am = world.user("am.north" if branch in (None, world.north) else "am.south")
    enterprise = world.enterprise(branch=branch or world.north)
    return Application.objects.create(
        reference=f"X{next(_numbers):06d}", enterprise=enterprise,
        product_version=world.version, branch=enterprise.branch, account_manager=am,
        created_by=am, state=ApplicationState.DISBURSED, decided_at=timezone.now(),
        **{**TERMS, "amount_requested": amount})


@transaction.atomic  # a booked loan asks for its inspection schedule through the outbox
def make_loan(world, application=None, *, principal=Decimal("500000"), outstanding=None,
              dpd=0, state=LoanState.ACTIVE, officer="postloan.north") -> Loan:
    application = application or plain_application(world, amount=principal)
    n = next(_numbers)
    ops_maker, ops_checker = world.user("ops.north"), world.user("ops.south")
    contract = LoanContract.objects.filter(application=application).first()
    if contract is None:
        contract = LoanContract.objects.create(
            application=application, contract_number=f"C{n:08d}", branch=application.branch,
            enterprise=application.enterprise, amount=principal, annual_rate=Decimal("4.35"),
            term_months=12, repayment_method="equal_instalment", collateral_type="none",
            signed_at=timezone.now(), created_by=ops_maker)
    disbursement = Disbursement.objects.create(
        contract=contract, state=DisbursementState.APPROVED, amount=principal,
        value_date=timezone.localdate() - dt.timedelta(days=200), borrower_account="6222",
        payment_mode="entrusted", requested_by=ops_maker, decided_by=ops_checker,
        decided_at=timezone.now())
    return Loan.objects.create(
        loan_number=f"L{n:08d}", contract=contract, disbursement=disbursement,
        application=application, enterprise=application.enterprise,
        branch=application.branch, product_version=application.product_version,
        officer=world.user(officer), state=state, principal=principal,
        annual_rate=Decimal("4.35"), repayment_method="equal_instalment",
        payment_mode="entrusted", value_date=disbursement.value_date,
        maturity_date=disbursement.value_date + dt.timedelta(days=365),
        outstanding_principal=principal if outstanding is None else outstanding,
        dpd_principal=dpd, dpd_as_of=timezone.localdate())
