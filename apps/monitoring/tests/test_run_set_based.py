"""On PostgreSQL the monthly run computes W01, floors, risk status and proposals in SQL
(`services.run_set`); the row-by-row path (SQLite's) must write exactly the same rows on
the same book, in a first month and in a second one on the first's results.

Both paths run the same chunks in the same order, the SQL one inside a savepoint that is
then rolled back; every result is compared by loan (ids of new rows differ, nothing else
may; the policy versions each proposal records must be equal too)."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.loans.models import Loan
from apps.monitoring.models import ClassificationRun, ClassificationRunChunk, Signal
from apps.monitoring.services.run import classification_run_start, classify_range
from apps.monitoring.services.signals import signal_raise
from apps.monitoring.tests.test_run_equivalence import _book, _results

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="the SQL path is PostgreSQL's")


@pytest.fixture
def templates(world):
    from apps.monitoring.inspection_seed import seed_inspection_templates

    seed_inspection_templates()


def _run(as_of, *, in_sql: bool) -> dict:
    run = ClassificationRun.objects.create(as_of=as_of)
    ids = list(Loan.objects.order_by("pk").values_list("pk", flat=True))
    counts = []
    # Two chunks, so the cross-default reads a borrower's loans outside the chunk.
    for first, last in ((ids[0], ids[len(ids) // 2]), (ids[len(ids) // 2] + 1, ids[-1])):
        counts.append(classify_range(first_id=first, last_id=last, as_of=as_of, run=run,
                                     in_sql=in_sql))
    return {**_results(), "counts": counts}


def _both(as_of) -> tuple[dict, dict]:
    savepoint = transaction.savepoint()
    in_sql = _run(as_of, in_sql=True)
    transaction.savepoint_rollback(savepoint)
    return in_sql, _run(as_of, in_sql=False)


def _assert_same(in_sql: dict, rows: dict) -> None:
    assert in_sql.keys() == rows.keys()
    for key in in_sql:
        assert in_sql[key] == rows[key], key


def test_first_month_in_sql_matches_row_path(world, templates):
    loans = _book(world)
    in_sql, rows = _both(timezone.localdate())
    _assert_same(in_sql, rows)
    reasons = {r["rule"] for _c, _f, rs, _d, _w in in_sql["risk"].values() for r in rs}
    assert reasons == {"dpd", "cross_default", "restructured", "signal"}
    assert in_sql["risk"][loans["xd_a"].pk][1] == "substandard"
    assert sum(c["proposals"] for c in in_sql["counts"]) >= 10
    assert sum(c["signals_opened"] for c in in_sql["counts"]) >= 8


def test_second_month_in_sql_matches_row_path(world, templates):
    """Arrears repaid (W01 resolved, system proposals withdrawn), grown (W01 risen: more
    actions), an officer's proposal left alone, an L3 signal added after the first month."""
    from apps.monitoring.services.classification import classification_propose

    loans = _book(world)
    today = timezone.localdate()
    run = classification_run_start(as_of=today - dt.timedelta(days=31))
    from apps.monitoring.services.run import classification_chunk_run

    for chunk in ClassificationRunChunk.objects.filter(run=run):
        classification_chunk_run(chunk_id=chunk.pk)
    Loan.objects.filter(pk__in=[loans["dpd45"].pk, loans["dpd200"].pk]).update(
        dpd_principal=0)
    Loan.objects.filter(pk=loans["dpd15"].pk).update(dpd_principal=100)
    Loan.objects.filter(pk=loans["dpd0"].pk).update(dpd_interest=400)
    signal_raise(loan_id=loans["dpd1"].pk, code="W17", observed="diverted", source="check")
    classification_propose(loan_id=loans["dpd30"].pk, category="doubtful",
                           reason="Site visit: the plant is idle.",
                           actor=world.user("postloan.north"))
    in_sql, rows = _both(today)
    _assert_same(in_sql, rows)
    closed = {loan_id for (loan_id, code), row in in_sql["signals"].items()
              if code == "W01" and row[1] == "closed"}
    assert closed == {loans["dpd45"].pk, loans["dpd200"].pk}
    assert Signal.objects.filter(loan=loans["dpd15"], code="W01").exists()
