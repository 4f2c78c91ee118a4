"""The demo seed books a loan book after the lifecycle demo, and stays idempotent."""

import pytest
from django.utils import translation

from apps.demo.seed import seed_demo
from apps.loans.models import Loan, LoanContract
from apps.loans.states import LoanState


@pytest.mark.django_db
def test_demo_contracts_and_disburses_the_approved_files():
    with translation.override("en"):
        seed_demo(with_business_data=True)
        contracts, loans = LoanContract.objects.count(), Loan.objects.count()
        assert contracts >= 1 and loans > contracts  # one file drawn in two tranches
        assert Loan.objects.filter(state=LoanState.RESTRUCTURED).count() == 1
        assert Loan.objects.filter(state=LoanState.WRITTEN_OFF).count() == 1
        seed_demo(with_business_data=True)
    assert (LoanContract.objects.count(), Loan.objects.count()) == (contracts, loans)
