"""The monthly run: chunks, W01 signals, floors, proposals and the month's snapshot."""

import datetime as dt

from django.utils import timezone

from apps.monitoring.models import (
    Classification,
    ClassificationRunChunk,
    ClassificationSnapshot,
    LoanRiskStatus,
    Signal,
)
from apps.monitoring.services.run import classification_chunk_run, classification_run_start


def _run_all(as_of, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = classification_run_start(as_of=as_of)
    assert len(callbacks) == run.chunks_total
    for chunk in ClassificationRunChunk.objects.filter(run=run):
        classification_chunk_run(chunk_id=chunk.pk)
    run.refresh_from_db()
    return run


def test_run_signals_floors_proposals_snapshot(world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    late, watch, fine = world.loan(dpd=95), world.loan(dpd=35), world.loan()
    world.loan(state="settled", dpd=400)  # off the book: not classified
    run = _run_all(today, django_capture_on_commit_callbacks)
    assert (run.state, run.loans_total) == ("done", 3)
    w01 = {s.loan_id: s.level for s in Signal.objects.filter(code="W01")}
    assert w01 == {late.pk: 3, watch.pk: 2}
    floors = dict(LoanRiskStatus.objects.values_list("loan_id", "floor"))
    assert floors == {late.pk: "substandard", watch.pk: "special_mention", fine.pk: "normal"}
    proposals = {c.loan_id: (c.category, c.source, c.state) for c in Classification.objects.all()}
    assert proposals == {late.pk: ("substandard", "system", "proposed"),
                         watch.pk: ("special_mention", "system", "proposed")}
    assert ClassificationSnapshot.objects.filter(run=run).count() == 3
    assert LoanRiskStatus.objects.get(loan=late).warning_level == 3
    # idempotent: a chunk re-sent after it finished changes nothing
    chunk = ClassificationRunChunk.objects.get(run=run)
    classification_chunk_run(chunk_id=chunk.pk)
    assert Classification.objects.count() == 2 and Signal.objects.count() == 2


def test_next_month_resolves_repaid_arrears(world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    loan = world.loan(dpd=35)
    _run_all(today - dt.timedelta(days=31), django_capture_on_commit_callbacks)
    loan.dpd_principal = 0
    loan.save(update_fields=["dpd_principal"])
    _run_all(today, django_capture_on_commit_callbacks)
    signal = Signal.objects.get(loan=loan, code="W01")
    assert signal.state == "closed" and "No longer observed" in signal.close_note
    assert LoanRiskStatus.objects.get(loan=loan).warning_level == 0
    # the system's earlier downgrade proposal is withdrawn: the floor is back to normal
    assert Classification.objects.get(loan=loan).state == "superseded"


def test_restructured_loan_dated_by_the_run(world, django_capture_on_commit_callbacks):
    loan = world.loan(state="restructured")
    _run_all(timezone.localdate(), django_capture_on_commit_callbacks)
    assert loan.restructurings.get().source == "first seen by the monthly run"
    assert LoanRiskStatus.objects.get(loan=loan).floor == "substandard"


def test_chunk_commit_does_not_wait_for_the_log_flush(world, django_capture_on_commit_callbacks):
    """On PostgreSQL a chunk's transaction commits asynchronously (SET LOCAL: only the
    chunk's own transaction, here the test's, which the chunk joins)."""
    import pytest
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's asynchronous commit")
    world.loan(dpd=95)
    with django_capture_on_commit_callbacks(execute=False):
        run = classification_run_start(as_of=timezone.localdate())
    with connection.cursor() as cursor:
        # The test settings run every connection with synchronous_commit off; put this
        # transaction back to the production default so the chunk's own setting shows.
        cursor.execute("SET LOCAL synchronous_commit TO on")
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
        classification_chunk_run(chunk_id=run.chunks.get().pk)
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
