"""The two from-scratch DPD recomputations give the same stored history and figures: the
PostgreSQL array path (apps.loans.dpd_pg) and the portable path (apps.loans.dpd_store, the
reference engine per loan) that SQLite runs under `make run`.

The book mixes what the paths must agree on: on-time, late and partial payers, a back-dated
repayment, reversals, a payment on a due date, a restructured schedule (a second version in
force), a loan whose balances the core reports, and a settled loan the sweep leaves alone.
The module runs on whatever database the suite runs on, and on PostgreSQL it runs itself once
more on SQLite (`test_the_portable_path_runs_on_sqlite`).
"""

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from apps.loans import dpd, dpd_store, dpd_sweep
from apps.loans.models import FeedImport, Loan, LoanDpd, RepaymentEvent, ScheduleInstalment
from apps.loans.states import LoanState
from apps.loans.tests.factories_servicing import ServicingWorld

# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


ROOT = Path(__file__).resolve().parents[3]


def ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


class Book:
    """Loans with repayment events written as the feed stores them."""

    def __init__(self):
        self.world = ServicingWorld()
        self.batch = FeedImport.objects.create(source="file", filename="paths", sha256="0" * 64,
                                               outcome="accepted")
        self.n = 0

    def pay(self, loan, day, principal, interest="0"):
        self.n += 1
        return RepaymentEvent.objects.create(
            loan=loan, source_record_id=f"P{self.n}", kind="repayment", value_date=day,
            principal=Decimal(principal), interest=Decimal(interest), feed_import=self.batch)

    def reverse(self, event, day):
        self.n += 1
        return RepaymentEvent.objects.create(
            loan=event.loan, source_record_id=f"X{self.n}", kind="reversal", value_date=day,
            reverses=event, feed_import=self.batch)


@pytest.fixture
def book(db):
    b = Book()
    loan = b.world.loan  # 3 instalments of 1,000.00 + 50.00 interest, due every 30 days
    on_time = loan(value_date=ago(100))
    for k in (1, 2, 3):
        b.pay(on_time, ago(100) + dt.timedelta(days=30 * k), "1000", "50")
    late = loan(value_date=ago(100))
    b.pay(late, ago(40), "1000", "50")  # first instalment 30 days late
    b.pay(late, ago(5), "500", "50")  # the second only in part
    never = loan(value_date=ago(95))
    partial = loan(value_date=ago(75))
    b.pay(partial, ago(45), "0", "30")  # part of the interest on the due date
    back_dated = loan(value_date=ago(70))
    b.pay(back_dated, ago(38), "1000", "50")  # booked late, value date before arrears began
    reversed_loan = loan(value_date=ago(80))
    b.reverse(b.pay(reversed_loan, ago(50), "1000", "50"), ago(45))
    b.pay(reversed_loan, ago(20), "400", "50")
    overpaid = loan(value_date=ago(65))
    b.pay(overpaid, ago(20), "4000", "150")  # more than the whole schedule
    restructured = loan(value_date=ago(90), months=2)
    b.pay(restructured, ago(55), "1000", "50")  # before the restructuring: the old schedule
    ScheduleInstalment.objects.create(loan=restructured, version=2, number=1, due_date=ago(10),
                                      principal=Decimal("3000"), interest=Decimal("80"),
                                      effective_from=ago(40))
    Loan.objects.filter(pk=restructured.pk).update(schedule_version=2)
    # Restructured twice: from ago(50) and again from ago(20), the second current.
    twice = loan(value_date=ago(100))
    b.pay(twice, ago(35), "2000", "60")  # the second version's first instalment, on time
    for version, start, rows in ((2, ago(50), ((ago(35), "2000", "60"), (ago(5), "1000", "30"))),
                                 (3, ago(20), ((today() + dt.timedelta(days=10), "1000", "90"),))):
        for number, (due, principal, interest) in enumerate(rows, start=1):
            ScheduleInstalment.objects.create(
                loan=twice, version=version, number=number, due_date=due,
                principal=Decimal(principal), interest=Decimal(interest), effective_from=start)
    Loan.objects.filter(pk=twice.pk).update(schedule_version=3)
    reported = loan(value_date=ago(100))
    Loan.objects.filter(pk=reported.pk).update(
        balance_as_of=ago(1), outstanding_principal=Decimal("2500.00"),
        overdue_principal=Decimal("123.45"), overdue_interest=Decimal("6.78"))
    future = loan(value_date=ago(10))  # nothing due yet
    b.settled = loan(value_date=ago(95), state=LoanState.SETTLED)
    b.open = [on_time, late, never, partial, back_dated, reversed_loan, overpaid, restructured,
              twice, reported, future]
    b.restructured = [restructured, twice]
    return b


def stored(loan_ids):
    """What a recomputation leaves behind: each loan's history and figures."""
    history = {pk: [] for pk in loan_ids}
    for loan_id, as_of, p, i in LoanDpd.objects.filter(loan_id__in=loan_ids).order_by(
            "loan_id", "as_of").values_list("loan_id", "as_of", "dpd_principal", "dpd_interest"):
        history[loan_id].append((as_of, p, i))
    figures = {row[0]: row[1:] for row in Loan.objects.filter(id__in=loan_ids).values_list(
        "id", "dpd_principal", "dpd_interest", "dpd_as_of", "overdue_principal",
        "overdue_interest", "outstanding_principal")}
    return history, figures


def forget(loan_ids):
    """Back to a book no recomputation has run on (reported balances stay)."""
    LoanDpd.objects.filter(loan_id__in=loan_ids).delete()
    Loan.objects.filter(id__in=loan_ids).update(dpd_principal=0, dpd_interest=0,
                                                dpd_as_of=None)
    Loan.objects.filter(id__in=loan_ids, balance_as_of__isnull=True).update(
        overdue_principal=0, overdue_interest=0, outstanding_principal=Decimal("3000.00"))


def expected(loan):
    """The reference engine over the loan's rows, independently of both paths."""
    instalments = [dpd.Instalment(i.due_date, dpd.to_fen(i.principal), dpd.to_fen(i.interest),
                                  i.version, i.effective_from)
                   for i in loan.instalments.filter(version__lte=loan.schedule_version)]
    events = [dpd.Event(e.source_record_id, e.value_date, dpd.to_fen(e.principal),
                        dpd.to_fen(e.interest),
                        e.reverses.source_record_id if e.reverses_id else None)
              for e in loan.repayments.select_related("reverses")]
    history = dpd.dpd_history(instalments, events, as_of=today())
    return [(p.as_of, p.dpd_principal, p.dpd_interest) for p in history], \
        dpd.figures(instalments, events, as_of=today())


def chunk(loans):
    ids = [x.pk for x in loans]
    return dpd_sweep.dpd_recompute_chunk(first_id=min(ids), last_id=max(ids), as_of=today())


def test_the_nightly_chunk_gives_the_reference_figures_and_a_rerun_writes_nothing(book):
    loans = book.open
    first = chunk([*loans, book.settled])
    assert first.loans == len(loans)
    history, figures = stored([x.pk for x in [*loans, book.settled]])
    for loan in loans:
        loan.refresh_from_db()
        points, f = expected(loan)
        assert history[loan.pk] == points, loan
        dpd_p, dpd_i, as_of, overdue_p, overdue_i, outstanding = figures[loan.pk]
        assert (dpd_p, dpd_i, as_of) == (f.dpd_principal, f.dpd_interest, today()), loan
        if loan.balance_as_of is None:
            assert (dpd.to_fen(overdue_p), dpd.to_fen(overdue_i)) == (
                f.overdue_principal, f.overdue_interest), loan
            assert outstanding == max(loan.principal - dpd.to_yuan(f.principal_paid), 0), loan
        else:  # the core's figures stand
            assert (overdue_p, overdue_i, outstanding) == (
                Decimal("123.45"), Decimal("6.78"), Decimal("2500.00"))
    assert history[book.settled.pk] == [] and figures[book.settled.pk][2] is None
    # The book is varied enough to mean something.
    assert sum(1 for pk in history if history[pk]) >= 5
    assert sum(1 for row in figures.values() if row[0]) >= 3
    before = {x.pk: x.updated_at for x in Loan.objects.filter(pk__in=[x.pk for x in loans])}
    again = chunk(loans)
    assert (again.loans_changed, again.points_written, again.points_deleted) == (0, 0, 0)
    assert stored([x.pk for x in loans]) == (
        {pk: rows for pk, rows in history.items() if pk != book.settled.pk},
        {pk: row for pk, row in figures.items() if pk != book.settled.pk})
    assert {x.pk: x.updated_at for x in Loan.objects.filter(pk__in=before)} == before


def test_a_back_dated_repayment_rewrites_the_history_from_its_day(book):
    never = book.open[2]
    chunk(book.open)
    assert LoanDpd.objects.filter(loan=never).count() == 1
    book.pay(never, ago(65), "1000", "50")  # back-dated to the first due date: never late
    result = chunk(book.open)
    assert (result.loans_changed, result.points_deleted) == (1, 1)
    points, f = expected(never)
    assert stored([never.pk])[0][never.pk] == points
    never.refresh_from_db()
    assert (never.dpd_principal, never.dpd_interest) == (f.dpd_principal, f.dpd_interest)


def test_restructured_loans_agree_on_every_path_and_are_cured_from_the_restructuring(book):
    """The reference engine, the nightly chunk (the array path on PostgreSQL, the portable
    one elsewhere), the portable recomputation and the feed's incremental step from the
    restructuring day all store the same history and figures for restructured loans; the
    history before each restructuring is the earlier schedule's, the loan current on its day."""
    ids = [x.pk for x in book.restructured]
    chunk(book.open)
    nightly = stored(ids)
    for loan in book.restructured:
        loan.refresh_from_db()
        points, f = expected(loan)
        assert nightly[0][loan.pk] == points, loan
        assert nightly[1][loan.pk][:2] == (f.dpd_principal, f.dpd_interest), loan
        starts = sorted(set(loan.instalments.filter(version__gt=1)
                            .values_list("effective_from", flat=True)))
        for start in starts:
            assert dpd.dpd_on([dpd.DpdPoint(*p) for p in points], start) == (0, 0), loan
        # Before the first restructuring: what the first schedule alone gives.
        Loan.objects.filter(pk=loan.pk).update(schedule_version=1)
        loan.refresh_from_db()
        first_only, _f = expected(loan)
        assert [p for p in points if p[0] < starts[0]] == \
            [p for p in first_only if p[0] < starts[0]], loan
    restructured, twice = book.restructured
    # Late on the first schedule, cured on ago(40), late again on the new one's due date.
    assert nightly[0][restructured.pk] == [(ago(59), 1, 1), (ago(55), 5, 0), (ago(40), 0, 0),
                                          (ago(9), 1, 1)]
    assert nightly[1][restructured.pk][:2] == (10, 10)
    # Cured on ago(50); its second version's missed ago(5) instalment never counted, the
    # third version being in force from ago(20); 1,000.00 of the third still owed.
    assert nightly[0][twice.pk] == [(ago(69), 1, 1), (ago(50), 0, 0)]
    assert nightly[1][twice.pk][:2] == (0, 0)
    assert nightly[1][twice.pk][3:] == (Decimal("0.00"), Decimal("0.00"), Decimal("1000.00"))
    # Every other path over the same rows stores exactly what the nightly chunk stored.
    Loan.objects.filter(pk=restructured.pk).update(schedule_version=2)
    Loan.objects.filter(pk=twice.pk).update(schedule_version=3)
    forget(ids)
    dpd_store.dpd_recompute(loan_ids=ids, as_of=today())  # portable, reference engine per loan
    assert stored(ids) == nightly
    forget(ids)
    dpd_store.dpd_recompute_scratch(loan_ids=ids, as_of=today())  # a large feed batch's path
    assert stored(ids) == nightly
    # The feed's incremental step: computed before the last restructuring, then recomputed
    # from its day once the new version is in force (as the restructure service does).
    forget(ids)
    Loan.objects.filter(pk=restructured.pk).update(schedule_version=1)
    Loan.objects.filter(pk=twice.pk).update(schedule_version=2)
    dpd_store.dpd_recompute(loan_ids=ids, as_of=today())
    Loan.objects.filter(pk=restructured.pk).update(schedule_version=2)
    Loan.objects.filter(pk=twice.pk).update(schedule_version=3)
    dpd_store.dpd_recompute(loan_ids=ids, as_of=today(),
                            first_affected={restructured.pk: ago(40), twice.pk: ago(20)})
    assert stored(ids) == nightly


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="compares the PostgreSQL array path with the portable one")
def test_the_array_path_equals_the_portable_path(book):
    ids = [x.pk for x in book.open]
    result = dpd_store.dpd_recompute_scratch(loan_ids=ids, as_of=today())  # array path
    array = stored(ids)
    forget(ids)
    assert stored(ids) != array
    portable = dpd_store.dpd_recompute(loan_ids=ids, as_of=today())  # reference engine
    assert stored(ids) == array
    assert (portable.loans_changed, portable.points_written) == (
        result.loans_changed, result.points_written)
    # Each path's rerun over the other's result writes nothing.
    assert dpd_store.dpd_recompute_scratch(loan_ids=ids, as_of=today()).loans_changed == 0
    assert dpd_store.dpd_recompute(loan_ids=ids, as_of=today()).loans_changed == 0
    # A day later: the array path moves the figures, not the history.
    later = today() + dt.timedelta(days=1)
    assert dpd_store.dpd_recompute_scratch(loan_ids=ids, as_of=later).points_written == 0
    moved = stored(ids)[1]
    forget(ids)
    dpd_store.dpd_recompute(loan_ids=ids, as_of=later)
    assert stored(ids)[1] == moved


@pytest.mark.skipif(connection.vendor == "sqlite", reason="this is the SQLite run itself")
def test_the_portable_path_runs_on_sqlite(tmp_path):
    """This module once more, on a fresh SQLite database: the chunk takes the portable path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "TEST_DATABASE_NAME", "CREDENCE_REQUIRE_SERVICES", "CI")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'dpd-paths.sqlite3'}", PYTHONPATH=str(ROOT),
               TEST_MEDIA_ROOT=str(tmp_path))
    run = subprocess.run(
        # --nomigrations: the tables straight from the models (10 s, against 100 s for the
        # whole migration history on SQLite, which `make run` and the SQLite `make test` apply).
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db",
         "--nomigrations",
         f"{Path(__file__).relative_to(ROOT)}", "-k", "not portable_path_runs_on_sqlite"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "3 passed, 1 skipped" in output, output
