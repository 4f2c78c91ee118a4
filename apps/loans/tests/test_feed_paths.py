"""The set-based import (PostgreSQL, apps.loans.feed_sql) and the reference engine (the
portable path SQLite runs) give the same outcome, the same refusals and write the same rows,
batch by batch: hand-picked edge cases and seeded random batches."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.loans import feed, feed_sql
from apps.loans.models import BalanceSnapshot, Loan, LoanDpd, RepaymentEvent
from apps.loans.tests.factories_servicing import ServicingWorld
from apps.loans.tests.test_feed_import import HEADER, bal, import_rows, rep, rev

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'postgresql'",
                                 reason="the set-based path runs on PostgreSQL only")]
# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


@pytest.fixture
def world():
    return ServicingWorld()


def _state():
    events = sorted(RepaymentEvent.objects.values_list(
        "source_record_id", "kind", "loan__loan_number", "value_date", "principal", "interest",
        "reverses__source_record_id"))
    balances = sorted(BalanceSnapshot.objects.values_list(
        "source_record_id", "loan__loan_number", "as_of", "outstanding_principal",
        "overdue_principal", "overdue_interest"))
    loans = sorted(Loan.objects.values_list(
        "loan_number", "state", "outstanding_principal", "overdue_principal", "overdue_interest",
        "balance_as_of", "dpd_principal", "dpd_interest", "dpd_as_of"))
    history = sorted(LoanDpd.objects.values_list("loan__loan_number", "as_of", "dpd_principal",
                                                 "dpd_interest"))
    return events, balances, loans, history


def _run(run, *, set_based: bool, settings, spy=None):
    """Run one import on one path and undo it; returns what it decided and wrote."""
    settings.LOANS_FEED_SET_BASED = set_based
    with transaction.atomic():
        batch = run()
        result = {"outcome": batch.outcome, "total": batch.rows_total, "new": batch.rows_new,
                  "duplicates": batch.rows_duplicate,
                  "errors": [(e["line"], e["field"], e["code"], e["params"], e["reason_en"])
                             for e in batch.errors],
                  "state": _state()}
        transaction.set_rollback(True)
    return result


def assert_same(run, settings) -> dict:
    reference = _run(run, set_based=False, settings=settings)
    set_based = _run(run, set_based=True, settings=settings)
    assert set_based == reference
    return reference


def test_the_set_based_path_is_the_one_taken(world, tmp_path, settings, monkeypatch):
    """A plain file is decided in SQL, without the reference engine's row parser."""
    loan = world.loan()
    calls = []
    monkeypatch.setattr(feed, "_parse_row", lambda *a: calls.append(a))
    batch = import_rows(tmp_path, [rep("R1", loan, loan.value_date + dt.timedelta(days=30),
                                       "1000", "50")])
    assert batch.outcome == "accepted" and batch.rows_new == 1 and calls == []


def test_good_batches_and_their_resend(world, tmp_path, settings):
    loan, other = world.loan(), world.loan()
    v = loan.value_date
    import_rows(tmp_path, [rep("OLD", loan, v + dt.timedelta(days=20), "100", "5")],
                name="first.csv")
    rows = [rep("R1", loan, v + dt.timedelta(days=30), "1000", "50"),
            rep("R2", other, v + dt.timedelta(days=31), "1,000.50", "0"),
            bal("B1", other, today(), "2000", "1000", "50"),
            bal("B2", loan, today() - dt.timedelta(days=1), "0"),
            rev("X1", "OLD", v + dt.timedelta(days=40)),
            rev("X2", "R1", v + dt.timedelta(days=41), loan=loan),
            rep("OLD", loan, v + dt.timedelta(days=20), "100.00", "5.0")]
    result = assert_same(lambda: import_rows(tmp_path, rows), settings)
    assert (result["outcome"], result["new"], result["duplicates"]) == ("accepted", 6, 1)
    import_rows(tmp_path, rows)
    result = assert_same(lambda: import_rows(tmp_path, rows), settings)
    assert (result["outcome"], result["new"], result["duplicates"]) == ("accepted", 0, 7)


def test_bad_rows(world, tmp_path, settings):
    loan = world.loan()
    v = loan.value_date
    import_rows(tmp_path, [rep("OLD", loan, v + dt.timedelta(days=30), "1000", "50"),
                           bal("OLDB", loan, today(), "100")], name="first.csv")
    cases = [
        [rep("N1", loan, v - dt.timedelta(days=1), "5", "0")],
        [rep("N1", loan, today() + dt.timedelta(days=1), "5", "0")],
        [rep("OLD", loan, v + dt.timedelta(days=30), "999", "50")],
        [bal("OLD", loan, today(), "100")],
        [rep("OLDB", loan, today(), "100", "0")],
        [rev("OLDB", "OLD", today())],
        [rep("N1", loan, today(), "0", "0.00")],
        [bal("N1", loan, today(), "10", "11")],
        [["X" * 65, "repayment", loan.loan_number, today().isoformat(), "1", "0", "", "", "", ""]],
        [rep("N1", loan, today(), "1", "0"), rep("N1", loan, today(), "1", "0")],
        [rep("N1", loan, today(), "1", "0"), rep("N1", loan, today(), "2", "0")],
        [rep("N1", loan, today(), "1", "0"), bal("N1", loan, today(), "1")],
        [rev("X1", "N9", today()), rep("N9", loan, today(), "1", "0")],
        [rep("N9", loan, today() - dt.timedelta(days=2), "1", "0"),
         rev("X1", "N9", today() - dt.timedelta(days=3))],
        [rep("N9", loan, today(), "1", "0"), rev("X1", "N9", today()), rev("X2", "N9", today())],
        [rev("X1", "OLD", today()), rev("X2", "X1", today())],
        [rev("X1", "OLD", today(), loan=world.loan())],
        [rev("X1", "", today())],
        [["N1", "refund", loan.loan_number, today().isoformat(), "1", "0", "", "", "", ""]],
        [["", "repayment", loan.loan_number, today().isoformat(), "1", "0", "", "", "", ""]],
        [["N1", "repayment", "", today().isoformat(), "1", "0", "", "", "", ""]],
    ]
    for rows in cases:
        result = assert_same(lambda rows=rows: import_rows(tmp_path, rows), settings)
        assert result["outcome"] == "refused" or rows[0][0] == "N1" and len(rows) == 2, rows


def test_a_file_of_good_and_bad_rows_is_refused_alike_by_both_engines(world, tmp_path,
                                                                      settings, monkeypatch):
    """One file mixing good rows with an unknown loan, a negative amount, a date before the
    loan's value date, a record id re-sent with different figures and a future date: both
    engines refuse the whole file, name the same lines with the same reasons in both
    languages, and write nothing; the set-based check is what sends it to the row engine."""
    loan, other = world.loan(), world.loan(branch=world.south)
    v = loan.value_date
    import_rows(tmp_path, [rep("OLD", loan, v + dt.timedelta(days=30), "1000", "50")],
                name="first.csv")
    rows = [rep("G1", loan, v + dt.timedelta(days=31), "500", "20"),            # line 2: good
            ["U1", "repayment", "NO-SUCH-LOAN", today().isoformat(), "1", "0", "", "", "", ""],
            rep("G2", other, other.value_date + dt.timedelta(days=5), "10", "1"),  # good
            rep("NEG", loan, v + dt.timedelta(days=32), "-5.00", "1"),           # line 5
            bal("GB", loan, today(), "9000", "100", "3"),                           # good
            rep("EARLY", loan, v - dt.timedelta(days=1), "5", "0"),              # line 7
            rep("OLD", loan, v + dt.timedelta(days=30), "999", "50"),            # line 8
            rep("LATE", loan, today() + dt.timedelta(days=1), "5", "0")]           # line 9
    checks = []
    real_check = feed_sql.check
    monkeypatch.setattr(feed_sql, "check", lambda **kw: checks.append(real_check(**kw))
                        or checks[-1])
    result = assert_same(lambda: import_rows(tmp_path, rows), settings)
    assert result["outcome"] == "refused" and result["new"] == 0
    assert [(line, code) for line, _f, code, _p, _en in result["errors"]] == [
        (3, "unknown_loan"), (5, "negative_amount"), (7, "before_value_date"),
        (8, "duplicate_different"), (9, "future_date")]
    # Nothing of the file was written: only the first file's repayment is stored.
    assert [e[0] for e in result["state"][0]] == ["OLD"]
    # The set-based run classified the file in SQL and found the five bad rows there.
    assert len(checks) == 1 and checks[0][0] == 5
    batch = import_rows(tmp_path, rows)
    assert all(e["reason_en"] and e["reason_zh"] and e["reason_zh"] != e["reason_en"]
               for e in batch.errors)


# Cells the reference engine reads one way or another: spellings, spaces, signs, nonsense.
DATES = ["{d}", "{d:%Y%m%d}", "{d:%Y/%m/%d}", "{d:%Y/%-m/%-d}", " {d} ", "{d}x", "2026-02-30",
         "2026-13-01", "0000-01-01", "20261301", "", "tomorrow", "{d:%d/%m/%Y}", "١٢٣٤-٠١-٠١"]
AMOUNTS = ["1", "1000.5", "1,000.50", "0", "-5", "-0", ".5", "5.", "1.234", "1e3", "NaN",
           "Infinity", " 7 ", "abc", "", "99999999999999999", "0012", "+5", "1,,0"]
IDS = ["{id}", " {id}", "{id}\u3000", "{id}\u00a0", "\t{id}"]
KINDS = ["repayment", "REPAYMENT", " balance", "balance", "reversal", "Reversal", "x"]


def _random_rows(rng, loans, stored):
    """A batch of a few rows; `noise` decides how often a cell is spelt oddly or wrong (none
    in about half the batches, so accepted batches are compared too)."""
    noise = rng.choice([0, 0, 0, 0.05, 0.3])
    rows, ids = [], []

    def odd(choices, plain):
        return rng.choice(choices) if rng.random() < noise else plain

    for k in range(rng.randint(1, 8)):
        loan = rng.choice(loans[:2]) if not noise else rng.choice(loans)
        day = loan.value_date + dt.timedelta(days=rng.randint(0, 99) if rng.random() >= noise
                                             else rng.randint(-3, 110))
        rid = odd(IDS, "{id}").format(id=odd([f"N{k}", "N0", *stored], f"N{k}"))
        kind = odd(KINDS, rng.choice(["repayment", "repayment", "balance", "reversal"]))
        date = odd(DATES, "{d}").format(d=day)
        number = odd(["NOPE", ""], loan.loan_number)
        target = rng.choice([*ids, *stored[:2]] if ids else stored[:2])
        if kind == "reversal" and rng.random() < 0.7:
            number = ""
        rows.append([rid, kind, number, date, odd(AMOUNTS, f"{rng.randint(1, 900)}.5"),
                     odd(AMOUNTS, "1"), odd(["NOPE", *stored], target),
                     odd(AMOUNTS, "5000"), odd(AMOUNTS, "10"), odd(AMOUNTS, "")])
        ids.append(rid.strip())
    return rows


def test_random_batches(world, tmp_path, settings):
    loans = [world.loan(), world.loan(), world.loan(branch=world.south)]
    v = loans[0].value_date
    stored = ["S1", "S2", "SB"]
    import_rows(tmp_path, [rep("S1", loans[0], v + dt.timedelta(days=10), "100", "5"),
                           rep("S2", loans[1], v + dt.timedelta(days=12), "200", "5"),
                           bal("SB", loans[1], v + dt.timedelta(days=13), "100")],
                name="first.csv")
    rng = random.Random(14)
    actor = world.user("ops.north")
    accepted = 0
    for n in range(80):
        rows = _random_rows(rng, loans, stored)
        if n % 3 == 0:  # some as the API sends them, the rest as files
            records = [dict(zip(HEADER, row, strict=True)) for row in rows]
            result = assert_same(lambda records=records: feed.feed_import(
                header=HEADER, rows=list(enumerate(records, start=1)), source="api",
                actor=actor).feed_import, settings)
        else:
            result = assert_same(lambda rows=rows: import_rows(tmp_path, rows, actor=actor),
                                 settings)
        accepted += result["outcome"] == "accepted"
    assert accepted >= 10  # the comparison covered accepted batches, not only refusals


def test_files_the_reader_must_parse(world, tmp_path, settings):
    """Quotes, blank lines, short and long rows, a missing kind column, another column order:
    staged through the csv module, decided the same way."""
    loan = world.loan()
    d = (loan.value_date + dt.timedelta(days=30)).isoformat()
    texts = [
        f'source_record_id,kind,loan_number,date,principal,interest\n"R1",repayment,'
        f'{loan.loan_number},{d},"1,000.00",5\n\nR2,repayment,{loan.loan_number},{d},1,0\n',
        f"date,kind,loan_number,source_record_id,principal,interest\n{d},repayment,"
        f"{loan.loan_number},R1,10,0\n",
        f"source_record_id,kind,loan_number,date,principal,interest\nR1,repayment,"
        f"{loan.loan_number},{d},10\nR2,repayment,{loan.loan_number},{d},1,0,extra\n",
        f"source_record_id,kind,loan_number,date,principal,interest\nB1,balance,"
        f"{loan.loan_number},{d},,\n",
        f"\ufeffsource_record_id,kind,loan_number,date,principal,interest\r\nR1,repayment,"
        f"{loan.loan_number},{d},10,0\r\n",
        f'source_record_id,kind,loan_number,date,principal,interest\nR1,repayment,'
        f'{loan.loan_number},{d},"1\n0",0\n',
    ]
    for k, text in enumerate(texts):
        path = tmp_path / f"f{k}.csv"
        path.write_bytes(text.encode("gb18030" if k == 1 else "utf-8"))
        from apps.loans.feed_files import feed_file_import

        assert_same(lambda path=path: feed_file_import(path=path, filename="f.csv").feed_import,
                    settings)


def test_a_plain_file_is_copied_as_it_is(world, tmp_path):
    loan = world.loan()
    d = (loan.value_date + dt.timedelta(days=30)).isoformat()
    path = tmp_path / "plain.csv"
    path.write_text(f"kind,source_record_id,loan_number,date,interest,principal\n"
                    f"repayment,R1,{loan.loan_number},{d},5,10\n"
                    f"repayment,R2,{loan.loan_number},{d},0,3\n")
    with transaction.atomic():
        feed_sql.stage_create(["kind", "source_record_id", "loan_number", "date", "interest",
                               "principal"])
        assert feed_sql.stage_file(path, "utf-8", ["kind", "source_record_id", "loan_number",
                                                   "date", "interest", "principal"]) == 2
        rows = list(feed_sql.staged_rows(["kind", "source_record_id", "loan_number", "date",
                                          "interest", "principal"]))
        transaction.set_rollback(True)
    assert [(line, row["source_record_id"], row["principal"]) for line, row in rows] == [
        (2, "R1", "10"), (3, "R2", "3")]
    assert connection.vendor == "postgresql"


def _run_with_threshold(run, threshold: int, settings) -> tuple:
    settings.LOANS_FEED_ARRAY_THRESHOLD = threshold
    with transaction.atomic():
        batch = run()
        state = (batch.outcome, batch.rows_new, _state())
        transaction.set_rollback(True)
    return state


def test_balances_applied_with_the_array_engine_equal_the_incremental_path(world, tmp_path,
                                                                           settings):
    """A large batch writes its balances in the DPD engine's UPDATE (apps.loans.feed_balances);
    the loans end as the small-batch path (balances applied, then DPD) leaves them: a newer
    balance, one older than what the loan carries, one reporting a loan paid off, balances
    on loans whose days past due do not change, and loans with repayments only."""
    repaid, reported, older, paid_off, quiet = (world.loan() for _ in range(5))
    v = repaid.value_date
    import_rows(tmp_path, [bal("OLDER", older, today(), "500", "100", "1")], name="first.csv")
    rows = [rep("R1", repaid, v + dt.timedelta(days=30), "1000", "50"),
            rep("R2", reported, v + dt.timedelta(days=30), "1000", "50"),
            bal("B1", reported, today() - dt.timedelta(days=1), "8000", "1000", "50"),
            bal("B2", reported, today() - dt.timedelta(days=2), "9000", "0", "0"),
            bal("B3", older, today() - dt.timedelta(days=5), "700", "0", "0"),
            bal("B4", paid_off, today(), "0"),
            bal("B5", quiet, today(), "10000", "0", "0")]
    array = _run_with_threshold(lambda: import_rows(tmp_path, rows), 1, settings)
    incremental = _run_with_threshold(lambda: import_rows(tmp_path, rows), 1000, settings)
    assert array == incremental
    assert array[:2] == ("accepted", 7)
    loans = {row[0]: row for row in array[2][2]}
    assert loans[reported.loan_number][2:6] == (Decimal("8000.00"), Decimal("1000.00"),
                                                 Decimal("50.00"), today() - dt.timedelta(days=1))
    assert loans[older.loan_number][2] == Decimal("500.00")  # its newer balance stays
    assert loans[paid_off.loan_number][1] == "settled"
