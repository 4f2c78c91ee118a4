"""Demo repayment histories: the rows the core would send, imported as a file through the real
feed on either database (the set-based path on PostgreSQL, the portable one on the SQLite of
`make run`), so the embedded demo shows the book a bank's feed gives."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.loans import demo_history as history
from apps.loans.demo import value_date_for
from apps.loans.dpd_store import dpd_recompute
from apps.loans.models import FeedImport, Loan, LoanDpd, RepaymentEvent
from apps.loans.services.disbursements import disbursement_approve

PROFILES = [
    history.Profile(history.ON_TIME, months_on_book=5),
    history.Profile(history.CURED, months_on_book=4),
    history.Profile(history.BOUNCED, missed_from=3, days_late=30),
    history.Profile(history.PARTIAL, missed_from=3, days_late=61),
    history.Profile(history.STOPPED, missed_from=2, days_late=100),
]


def _back_dated_loan(world, contract, value_date: dt.date) -> Loan:
    request = world.request(contract, "40000.00", value_date=value_date,
                            allow_past_value_date=True)
    return disbursement_approve(disbursement_id=request.pk, actor=world.checker,
                                allow_past_value_date=True)


def _state(loan: Loan) -> tuple:
    loan.refresh_from_db()
    points = [(p.as_of, p.dpd_principal, p.dpd_interest)
              for p in LoanDpd.objects.filter(loan=loan).order_by("as_of")]
    return (points, loan.dpd_principal, loan.dpd_interest, loan.dpd_as_of,
            loan.overdue_principal, loan.overdue_interest, loan.outstanding_principal,
            loan.balance_as_of)


@pytest.mark.django_db
def test_the_demo_feed_goes_through_the_real_feed(world):
    today = timezone.localdate()
    contract = world.contract()
    pairs = []
    for index, profile in enumerate(PROFILES):
        pairs.append((profile, _back_dated_loan(world, contract,
                                                value_date_for(profile, index, today))))
    rows = [row for profile, loan in pairs
            for row in history.feed_rows(loan, profile, today=today)]
    batch = history.import_rows(rows, today=today)
    # A file import as the bank's: hashed, counted, audited; the same file again is all
    # duplicates.
    assert batch.source == FeedImport.Source.FILE and len(batch.sha256) == 64
    assert (batch.rows_total, batch.rows_new) == (len(rows), len(rows))
    assert AuditEvent.objects.filter(action="loan_feed.imported").count() == 1
    assert history.import_rows(rows, today=today).rows_duplicate == len(rows)
    assert FeedImport.objects.filter(outcome=FeedImport.Outcome.ACCEPTED).count() == 2

    states = []
    for profile, loan in pairs:
        assert loan.repayments.exists(), profile
        states.append(_state(loan))
    on_time, cured, bounced, partial, stopped = states
    assert on_time[0] == [] and on_time[1:3] == (0, 0)
    assert cured[0] and cured[1:3] == (0, 0)  # one slip in its history, current now
    assert 28 <= bounced[1] <= 33 and bounced[2] == bounced[1]
    assert RepaymentEvent.objects.filter(kind="reversal").count() == 1
    assert 58 <= partial[1] <= 64 and partial[2] < partial[1]  # interest paid, not principal
    assert stopped[1] >= 97
    # The production recomputation from scratch finds nothing to change on either path.
    loan_ids = [loan.pk for _p, loan in pairs]
    assert dpd_recompute(loan_ids=loan_ids, as_of=today).loans_changed == 0
    assert [_state(loan) for _p, loan in pairs] == states
