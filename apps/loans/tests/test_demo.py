"""The loan-book part of the demo seed on a small world: approved files contracted, drawn
back-dated (one in two tranches, the last left undrawn), histories imported; idempotent.
The whole demo book (late payers, changes, monitoring run) is tested in apps/demo/tests."""

from django.utils import timezone

from apps.applications.states import ApplicationState as S
from apps.loans.demo import seed_demo_loans
from apps.loans.models import FeedImport, Loan, LoanContract, RepaymentEvent


def test_seed_demo_loans_books_back_dated_loans_with_histories(world):
    today = timezone.localdate()
    files = [world.approved() for _ in range(3)]
    counts = seed_demo_loans(today=today)
    assert counts["contracts"] == 3 and counts["loans"] == 3  # two tranches + one loan
    undrawn = LoanContract.objects.get(application=files[-1])
    assert not undrawn.loans.exists()
    assert undrawn.application.state == S.CONTRACTED
    loans = list(Loan.objects.order_by("pk"))
    assert [loan.contract.application_id for loan in loans] == [files[0].pk, files[0].pk,
                                                                 files[1].pk]
    assert all(loan.value_date < today for loan in loans)
    assert all(loan.repayments.exists() for loan in loans)
    bounced = loans[-1]
    assert bounced.repayments.filter(kind=RepaymentEvent.Kind.REVERSAL).exists()
    assert 28 <= bounced.dpd <= 33
    before = (LoanContract.objects.count(), Loan.objects.count(),
              RepaymentEvent.objects.count(), FeedImport.objects.count())
    assert seed_demo_loans(today=today) == {"contracts": 0, "loans": 0}
    assert (LoanContract.objects.count(), Loan.objects.count(),
            RepaymentEvent.objects.count(), FeedImport.objects.count()) == before
