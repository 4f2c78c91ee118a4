"""Core-banking feed import of 100,000 rows from a CSV file, as a ratio to COPY of the same file
into a plain table in the same run (target <= 5x).

  * COPY: `COPY plain_feed FROM STDIN (FORMAT csv, HEADER)` of the file into a table of text
    columns, streamed from disk: the floor for getting the bytes into PostgreSQL;
  * full: `apps.loans.feed_files.feed_file_import` as the `import_core_feed` command and the
    upload page run it — encoding check, the file COPYed as it is into a temporary stage
    (apps.loans.feed_sql), every row validated in one SQL statement (figures, dates, loan
    known and visible, value date, duplicates in the file and in the database, reversals),
    `INSERT … SELECT` of the new events and balance snapshots, the affected loans locked,
    their latest balances applied and their days past due recomputed from the first day
    touched, one audit event. Then the same file again (every row a duplicate, nothing
    written);
  * floor: the rows the import wrote, already typed and validated, COPYed into empty copies
    of the event and snapshot tables with the same indexes (`indexed_floor`): what storing
    them costs before any validation, DPD or audit, as a multiple of the same COPY baseline.

The rows are 90% repayments and 10% balance snapshots over `--loans` (10,000) loans booked with
COPY (bench_loans_dpd.seed_loans). PostgreSQL, in a database of its own (BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/credence_bench_loans_feed), dropped and recreated.
"""

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_loans_dpd import AS_OF, recreate_database, seed_loans, setup_django  # noqa: E402

HEADER = ["source_record_id", "kind", "loan_number", "date", "principal", "interest",
          "reverses", "outstanding_principal", "overdue_principal", "overdue_interest"]


def write_feed(path: Path, loans, rows: int, *, seed: int = 5) -> None:
    rng = random.Random(seed)
    per_loan = max(rows // len(loans), 1)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        written = 0
        for _loan_id, number, value_date in loans:
            span = (AS_OF - value_date).days
            for k in range(per_loan):
                if written == rows:
                    break
                day = value_date + dt.timedelta(days=rng.randint(0, span))
                if k % 10 == 9:
                    outstanding = rng.randint(0, 120000)
                    writer.writerow([f"F{written}", "balance", number, day.isoformat(), "", "",
                                     "", f"{outstanding}.00", f"{outstanding // 10}.00",
                                     "12.34"])
                else:
                    writer.writerow([f"F{written}", "repayment", number, day.isoformat(),
                                     f"{rng.randint(0, 9000)}.{rng.randint(0, 99):02d}",
                                     "400.00", "", "", "", ""])
                written += 1


def copy_baseline(path: Path) -> float:
    from django.db import connection, transaction

    columns = ", ".join(f"{c} text" for c in HEADER)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS plain_feed")
        cursor.execute(f"CREATE TABLE plain_feed ({columns})")
        with open(path, "rb") as handle, \
                cursor.cursor.copy("COPY plain_feed FROM STDIN (FORMAT csv, HEADER)") as copy:
            while block := handle.read(1 << 16):
                copy.write(block)
    return time.perf_counter() - t0


# The columns the feed writes, per table: what the floor below COPYs.
WRITTEN = {
    "loans_repaymentevent": ("loan_id", "source_record_id", "kind", "value_date", "principal",
                             "interest", "reverses_id", "feed_import_id", "received_at"),
    "loans_balancesnapshot": ("loan_id", "source_record_id", "as_of", "outstanding_principal",
                              "overdue_principal", "overdue_interest", "feed_import_id"),
}


def indexed_floor() -> float:
    """The floor under any import that keeps the tables' indexes: the rows the import wrote,
    already typed and validated, COPYed (binary) into empty copies of the event and snapshot
    tables with the same indexes and checks (`LIKE … INCLUDING ALL`: the unique record id that
    makes the feed idempotent, the (loan, date) index the DPD reads and the loan page use, the
    primary key; no triggers), in a transaction rolled back. No validation, no DPD, no audit."""
    from django.db import connection, transaction

    dumps = {}
    with connection.cursor() as cursor:
        for table, columns in WRITTEN.items():
            names = ", ".join(columns)
            with cursor.cursor.copy(f"COPY (SELECT {names} FROM {table} ORDER BY id) "
                                    "TO STDOUT (FORMAT binary)") as copy:
                dumps[table] = b"".join(bytes(block) for block in copy)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in WRITTEN:
            cursor.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        t0 = time.perf_counter()
        for table, columns in WRITTEN.items():
            with cursor.cursor.copy(f"COPY floor_{table} ({', '.join(columns)}) FROM STDIN "
                                    "(FORMAT binary)") as copy:
                view = memoryview(dumps[table])
                for offset in range(0, len(view), 1 << 20):
                    copy.write(view[offset:offset + (1 << 20)])
        elapsed = time.perf_counter() - t0
        transaction.set_rollback(True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--loans", type=int, default=10_000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_loans_feed")
    recreate_database(url)
    setup_django(url)
    t0 = time.perf_counter()
    loans = seed_loans(args.loans)
    print(f"  (seeded {args.loans:,} loans with COPY in {time.perf_counter() - t0:.1f} s)")
    from apps.loans import feed_phases
    from apps.loans.feed_files import feed_file_import
    from apps.loans.models import BalanceSnapshot, FeedImport, RepaymentEvent

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.csv"
        write_feed(path, loans, args.rows)
        size = path.stat().st_size
        t_copy = copy_baseline(path)
        t0 = time.perf_counter()
        batch = feed_file_import(path=path, filename="feed.csv").feed_import
        t_full = time.perf_counter() - t0
        phases_full = feed_phases.summary(t_full)
        assert batch.outcome == FeedImport.Outcome.ACCEPTED, batch.errors[:5]
        stored = RepaymentEvent.objects.count() + BalanceSnapshot.objects.count()
        assert stored == batch.rows_new == args.rows, (stored, batch.rows_new)
        t0 = time.perf_counter()
        again = feed_file_import(path=path, filename="feed.csv").feed_import
        t_again = time.perf_counter() - t0
        phases_again = feed_phases.summary(t_again)
        assert again.rows_duplicate == args.rows and again.rows_new == 0
        t_floor = indexed_floor()
        t_copy = min(t_copy, copy_baseline(path))
        t_floor = min(t_floor, indexed_floor())
    print(f"  ({args.rows:,} rows, {size / 1e6:.1f} MB CSV, {args.loans:,} loans; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"COPY of the file into a plain table: {t_copy:.2f} s ({args.rows / t_copy:,.0f} rows/s)")
    print(f"feed import (validate, COPY, DPD of {args.loans:,} loans, audit): {t_full:.2f} s "
          f"({args.rows / t_full:,.0f} rows/s) = {t_full / t_copy:.2f}x COPY in this run "
          f"(target <= 5x)")
    print(f"  phases: {phases_full}")
    print(f"floor: the written rows, typed and valid, COPYed into empty copies of the event and "
          f"snapshot tables with their indexes: {t_floor:.2f} s = {t_floor / t_copy:.2f}x COPY "
          f"(no validation, no DPD, no audit)")
    print(f"same file again (all duplicates, nothing written): {t_again:.2f} s = "
          f"{t_again / t_copy:.2f}x COPY")
    print(f"  phases: {phases_again}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
