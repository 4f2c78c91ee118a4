"""The nightly DPD recomputation: chunked sweep over open loans, idempotent chunks, and the
sweep through a real Celery worker on Redis (CONVENTIONS §4)."""

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from apps.core.task_names import TaskName
from apps.loans import dpd_sweep
from apps.loans.models import Loan, LoanDpd
from apps.loans.states import LoanState
from apps.loans.tests.factories_servicing import ServicingWorld

# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


def missed_first_instalment(world, **kwargs):
    # Value date 45 days ago: the first instalment (day 30) fell due 15 days ago, unpaid.
    return world.loan(value_date=today() - dt.timedelta(days=45), **kwargs)


@pytest.mark.django_db
def test_chunks_cover_open_loans_only_and_rerun_changes_nothing():
    world = ServicingWorld()
    loans = [missed_first_instalment(world) for _ in range(3)]
    settled = missed_first_instalment(world, state=LoanState.SETTLED)
    ranges = dpd_sweep.open_loan_ranges(2)
    assert ranges == [(loans[0].pk, loans[1].pk), (loans[2].pk, loans[2].pk)]
    results = [dpd_sweep.dpd_recompute_chunk(first_id=a, last_id=b, as_of=today())
               for a, b in ranges]
    assert sum(r.loans_changed for r in results) == 3
    for loan in loans:
        loan.refresh_from_db()
        assert (loan.dpd_principal, loan.dpd_interest, loan.dpd_as_of) == (15, 15, today())
        assert LoanDpd.objects.filter(loan=loan).count() == 1
    settled.refresh_from_db()
    assert settled.dpd_as_of is None and not LoanDpd.objects.filter(loan=settled).exists()
    again = dpd_sweep.dpd_recompute_chunk(first_id=ranges[0][0], last_id=ranges[0][1],
                                          as_of=today())
    assert (again.loans_changed, again.points_written) == (0, 0)
    # The next day the figures move on; the history does not (a change point holds).
    later = dpd_sweep.dpd_recompute_chunk(first_id=loans[0].pk, last_id=loans[0].pk,
                                          as_of=today() + dt.timedelta(days=1))
    assert later.points_written == 0
    loans[0].refresh_from_db()
    assert loans[0].dpd_principal == 16


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_nightly_sweep_recomputes_dpd_through_a_real_worker(settings):
    from config.celery import app

    settings.LOANS_DPD_CHUNK_SIZE = 2
    world = ServicingWorld()
    loans = [missed_first_instalment(world) for _ in range(5)]
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10):
        app.send_task(str(TaskName.LOANS_DPD_RECOMPUTE_SWEEP))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Loan.objects.filter(pk__in=[x.pk for x in loans], dpd_as_of=today()).count() == 5:
                break
            time.sleep(0.2)
    done = Loan.objects.filter(pk__in=[x.pk for x in loans])
    assert sorted(done.values_list("dpd_principal", flat=True)) == [15] * 5
    assert LoanDpd.objects.filter(loan__in=loans).count() == 5
