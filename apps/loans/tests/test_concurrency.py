"""Two officers racing over one contract's undrawn amount never overdraw it (PostgreSQL)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.loans.models import Disbursement
from apps.loans.services.disbursements import disbursement_approve
from apps.loans.states import DisbursementState
from apps.loans.tests.factories import LoanWorld


def _race(calls):
    barrier, outcomes = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(("ok", call()))
        except Exception as exc:  # noqa: BLE001 - the loser's refusal is the point
            outcomes.append(("refused", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_requests_over_the_undrawn_amount_one_wins():
    world = LoanWorld()
    contract = world.contract()
    half_plus = str((contract.amount / 2 + 1).quantize(Decimal("0.01")))
    for _trial in range(3):
        outcomes = _race([lambda: world.request(contract, half_plus)] * 2)
        assert sorted(o for o, _ in outcomes) == ["ok", "refused"]
        committed = Disbursement.objects.filter(
            contract=contract, state=DisbursementState.REQUESTED)
        assert sum(d.amount for d in committed) <= contract.amount
        committed.delete()


@pytest.mark.django_db(transaction=True)
def test_two_checkers_approving_one_request_book_one_loan():
    world = LoanWorld()
    from apps.accounts.roles import Role
    from apps.accounts.services import user_create

    third = user_create(username="ops3.north", password="x-Very-long-pass-1",
                        branch=world.north, roles=[Role.LOAN_OPERATIONS])
    contract = world.contract()
    request = world.request(contract, str(contract.amount))
    outcomes = _race([lambda: disbursement_approve(disbursement_id=request.pk,
                                                   actor=world.checker),
                      lambda: disbursement_approve(disbursement_id=request.pk, actor=third)])
    assert sorted(o for o, _ in outcomes) == ["ok", "refused"]
    assert contract.loans.count() == 1
    assert sum(loan.principal for loan in contract.loans.all()) <= contract.amount
