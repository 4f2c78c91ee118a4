import pytest

from apps.loans.tests.factories import LoanWorld


@pytest.fixture
def world(db):
    return LoanWorld()
