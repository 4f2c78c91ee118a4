"""Loan-book test helpers on top of the applications World: approved files, contracts,
drawdowns, and the two operations officers of a branch."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World
from apps.demo.lifecycle import walk_to_state
from apps.investigations.models import PolicyValue
from apps.loans.models import PaymentMode
from apps.loans.services.common import ENTRUSTED_THRESHOLD_KEY
from apps.loans.services.contracts import contract_create
from apps.loans.services.disbursements import disbursement_approve, disbursement_request


class LoanWorld(World):
    """`ops.north` makes, `ops2.north` checks; `ops.south` is out of scope."""

    def __init__(self):
        super().__init__()
        PolicyValue.objects.get_or_create(
            key=ENTRUSTED_THRESHOLD_KEY, version=1,
            defaults={"value": Decimal("10000000"), "unit": "CNY",
                      "effective_from": dt.date(2024, 7, 1), "evidence": "M"})

    @property
    def maker(self) -> User:
        return self.user("ops.north")

    @property
    def checker(self) -> User:
        return self.user("ops2.north")

    def approved(self, **terms) -> Application:
        """An approved file with its conditions precedent satisfied."""
        from apps.approvals.demo import satisfy_conditions

        application = walk_to_state(self.draft(**terms), S.APPROVED, branch_code="north")
        satisfy_conditions(application, self.user("postloan.north"))
        return Application.objects.get(pk=application.pk)

    def contract(self, **terms):
        return contract_create(application_id=self.approved(**terms).pk, actor=self.maker,
                               signing_mode="in_person", signing_place="North branch")

    def request(self, contract, amount="100000.00", **fields):
        data = {"value_date": timezone.localdate(), "borrower_account": "6222020200112233",
                "payment_mode": PaymentMode.INDEPENDENT, **fields}
        return disbursement_request(contract_id=contract.pk, actor=self.maker,
                                    amount=Decimal(amount), **data)

    def loan(self, contract=None, amount="100000.00", **fields):
        contract = contract or self.contract()
        request = self.request(contract, amount, **fields)
        return disbursement_approve(disbursement_id=request.pk, actor=self.checker)
