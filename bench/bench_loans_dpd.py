"""Nightly days-past-due recomputation over 100,000 loans with 2 million repayment events, as a
ratio to a plain SQL window-function computation of the same figures in the same run (target
<= 3x), and a check that both give the same figures for every loan.

  * SQL: one statement per run — the schedule's obligations in allocation order (interest,
    then principal, oldest instalment first) with a running total (`SUM() OVER`), the standing
    repayments summed per loan, and per loan the first unpaid due date of each kind and the
    overdue amounts, written to a temporary table;
  * full: the nightly job as its worker runs it — `dpd_sweep.open_loan_ranges` then
    `dpd_recompute_chunk` per chunk of 5,000 on the PostgreSQL path (apps.loans.dpd_pg: lock
    the chunk's loans, one packed read each of the loans, instalments, repayment events and
    stored history, the array engine, DELETE + binary COPY of the changed loans' history, one
    UPDATE of the loans whose figures changed). Timed twice: the first night (empty history,
    every point written) and a rerun (nothing changes, nothing written).

Rows are generated in Python and loaded with COPY (this measures the recomputation, not the
services that book loans). PostgreSQL, in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_loans_dpd), dropped and recreated.
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 30)
INSTALMENTS = 12


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": "memory://",
                       "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def copy_models(model, rows, start_id: int = 1) -> int:
    """COPY rows (dicts of attname → value) into a model's table, every other column at its
    Django default; ids assigned from `start_id`. Returns the next free id."""
    from django.db import connection
    from django.db.models import DateTimeField
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields]
    names = ", ".join(f.column for f in fields)
    defaults = {}
    for f in fields:
        if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add):
            defaults[f.attname] = now
        else:  # the default, or "" for text columns that allow blank, else NULL
            defaults[f.attname] = f.get_default()
    next_id = start_id
    with connection.cursor() as cursor, \
            cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = []
            for f in fields:
                if f.primary_key:
                    value = row.get(f.attname, next_id)
                else:
                    value = row.get(f.attname, defaults[f.attname])
                if isinstance(value, dict | list):
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)
            next_id += 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
                       f"GREATEST((SELECT MAX(id) FROM {model._meta.db_table}), 1))")
    return next_id


def seed_loans(loans: int, *, seed: int = 7) -> list[tuple[int, str, dt.date]]:
    """`loans` active loans (12 monthly instalments, due every 30 days) with their contract,
    disbursement and application; returns (loan id, loan number, value date)."""
    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.demo.seed import seed_demo
    from apps.loans.models import Disbursement, Loan, LoanContract, ScheduleInstalment
    from apps.org.models import Branch
    from apps.parties.tests.factories import EnterpriseFactory
    from apps.products.models import ProductVersion
    from apps.products.seed import seed_products

    rng = random.Random(seed)
    seed_demo()
    seed_products(effective_from=dt.date(2024, 1, 1))
    branch = Branch.objects.get(code="north")
    ops, am = User.objects.get(username="ops.north"), User.objects.get(username="am.north")
    version = ProductVersion.objects.filter(product__code="tax-credit-loan").first()
    enterprise = EnterpriseFactory(branch=branch, annual_revenue=Decimal("3000000"))
    ids = range(1, loans + 1)
    value_dates = {i: AS_OF - dt.timedelta(days=rng.randint(45, 400)) for i in ids}
    principal = Decimal("120000.00")
    common = {"branch_id": branch.pk, "enterprise_id": enterprise.pk}
    copy_models(Application, ({"id": i, "reference": f"B{i:08d}", "product_version_id":
                               version.pk, "account_manager_id": am.pk,
                               "amount_requested": principal, **common} for i in ids))
    copy_models(LoanContract, ({"id": i, "application_id": i, "contract_number": f"C{i:08d}",
                                "amount": principal, "annual_rate": Decimal("4.350"),
                                "term_months": 12, "repayment_method": "equal_principal",
                                "collateral_type": "none", "created_by_id": ops.pk, **common}
                               for i in ids))
    copy_models(Disbursement, ({"id": i, "contract_id": i, "amount": principal,
                                "value_date": value_dates[i], "borrower_account": "62220001",
                                "payment_mode": "independent", "requested_by_id": ops.pk,
                                "state": "approved"} for i in ids))
    copy_models(Loan, ({"id": i, "loan_number": f"L{i:08d}", "contract_id": i,
                        "disbursement_id": i, "application_id": i, "product_version_id":
                        version.pk, "officer_id": am.pk, "state": "active",
                        "principal": principal, "annual_rate": Decimal("4.350"),
                        "repayment_method": "equal_principal", "payment_mode": "independent",
                        "value_date": value_dates[i],
                        "maturity_date": value_dates[i] + dt.timedelta(days=360),
                        "outstanding_principal": principal, **common} for i in ids))
    copy_models(ScheduleInstalment, (
        {"loan_id": i, "version": 1, "number": k,
         "due_date": value_dates[i] + dt.timedelta(days=30 * k),
         "principal": Decimal("10000.00"), "interest": Decimal("400.00"),
         "effective_from": value_dates[i]}
        for i in ids for k in range(1, INSTALMENTS + 1)))
    return [(i, f"L{i:08d}", value_dates[i]) for i in ids]


def seed_events(loans: list[tuple[int, str, dt.date]], events: int, *, seed: int = 11) -> int:
    """About `events` repayment events spread over the loans, streamed into COPY (2% more are
    reversals of one of them): most borrowers pay on time, some late, some partially, some
    stop paying."""
    from django.db import connection

    from apps.loans.models import FeedImport, RepaymentEvent

    rng = random.Random(seed)
    batch = FeedImport.objects.create(source="file", filename="bench", sha256="0" * 64,
                                      outcome="accepted")
    per_loan = max(events // len(loans), 1)
    reversals = []
    counter = iter(range(1, 10**9))

    def repayments():
        for loan_id, _number, value_date in loans:
            behaviour = rng.random()
            late = 0 if behaviour < 0.7 else rng.randint(1, 60)
            share = 1.0 if behaviour < 0.85 else rng.choice([0.5, 0.8, 0.0])
            amount = max(Decimal(int(10400 * INSTALMENTS * share * 100) // per_loan) / 100,
                         Decimal("1.00"))
            interest = min(amount, Decimal("400.00"))
            for n in range(per_loan):
                k = min(n * INSTALMENTS // per_loan, INSTALMENTS - 1)
                day = value_date + dt.timedelta(days=30 * (k + 1) - rng.randint(0, 5) + late)
                if day > AS_OF or day < value_date:
                    day = min(max(value_date, AS_OF - dt.timedelta(days=rng.randint(0, 10))),
                              AS_OF)
                pk = next(counter)
                if rng.random() < 0.02:
                    reversals.append((pk, loan_id, min(day + dt.timedelta(days=3), AS_OF)))
                yield {"id": pk, "loan_id": loan_id, "source_record_id": f"R{pk}",
                       "kind": "repayment", "value_date": day, "principal": amount - interest,
                       "interest": interest, "feed_import_id": batch.pk}

    next_id = copy_models(RepaymentEvent, repayments())
    copy_models(RepaymentEvent, ({"id": next_id + n, "loan_id": loan_id,
                                  "source_record_id": f"X{next_id + n}", "kind": "reversal",
                                  "value_date": day, "reverses_id": target,
                                  "feed_import_id": batch.pk, "principal": Decimal(0),
                                  "interest": Decimal(0)}
                                 for n, (target, loan_id, day) in enumerate(reversals)),
                start_id=next_id)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return next_id - 1 + len(reversals)


SQL_FIGURES = """
CREATE TEMP TABLE sql_dpd AS
WITH paid AS (
    SELECT e.loan_id, SUM((e.principal + e.interest) * 100)::bigint AS paid
      FROM loans_repaymentevent e
     WHERE e.kind = 'repayment' AND e.value_date <= %(as_of)s
       AND NOT EXISTS (SELECT 1 FROM loans_repaymentevent r WHERE r.reverses_id = e.id)
     GROUP BY e.loan_id),
obligations AS (
    SELECT i.loan_id, i.due_date, o.is_interest, o.amount,
           SUM(o.amount) OVER (PARTITION BY i.loan_id
                               ORDER BY i.due_date, i.number, o.ord) AS ends
      FROM loans_scheduleinstalment i
      JOIN loans_loan l ON l.id = i.loan_id AND l.schedule_version = i.version
     CROSS JOIN LATERAL (VALUES (0, true, (i.interest * 100)::bigint),
                                (1, false, (i.principal * 100)::bigint)) AS o(ord, is_interest,
                                                                            amount)
     WHERE o.amount > 0 AND l.state IN ('pending', 'active', 'restructured'))
SELECT o.loan_id,
       COALESCE(%(as_of)s::date - MIN(o.due_date) FILTER (
           WHERE NOT o.is_interest AND o.ends > COALESCE(p.paid, 0)
             AND o.due_date < %(as_of)s), 0) AS dpd_principal,
       COALESCE(%(as_of)s::date - MIN(o.due_date) FILTER (
           WHERE o.is_interest AND o.ends > COALESCE(p.paid, 0)
             AND o.due_date < %(as_of)s), 0) AS dpd_interest,
       COALESCE(SUM(LEAST(o.amount, o.ends - COALESCE(p.paid, 0))) FILTER (
           WHERE NOT o.is_interest AND o.ends > COALESCE(p.paid, 0)
             AND o.due_date < %(as_of)s), 0) AS overdue_principal,
       COALESCE(SUM(LEAST(o.amount, o.ends - COALESCE(p.paid, 0))) FILTER (
           WHERE o.is_interest AND o.ends > COALESCE(p.paid, 0)
             AND o.due_date < %(as_of)s), 0) AS overdue_interest
  FROM obligations o LEFT JOIN paid p USING (loan_id)
 GROUP BY o.loan_id
"""


def sql_baseline() -> float:
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sql_dpd")
        cursor.execute(SQL_FIGURES, {"as_of": AS_OF})
    return time.perf_counter() - t0


def nightly_run() -> float:
    from apps.loans import dpd_sweep

    t0 = time.perf_counter()
    for first_id, last_id in dpd_sweep.open_loan_ranges(dpd_sweep.chunk_size()):
        dpd_sweep.dpd_recompute_chunk(first_id=first_id, last_id=last_id, as_of=AS_OF)
    return time.perf_counter() - t0


def mismatches() -> int:
    """Loans whose figures differ between the job and the SQL computation."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS sql_dpd_keep AS SELECT * FROM sql_dpd")
        cursor.execute("""
            SELECT COUNT(*) FROM loans_loan l FULL JOIN sql_dpd s ON s.loan_id = l.id
             WHERE l.id IS NULL OR s.loan_id IS NULL OR l.dpd_as_of IS DISTINCT FROM %s
                OR (l.dpd_principal, l.dpd_interest) <> (s.dpd_principal, s.dpd_interest)
                OR (l.overdue_principal * 100)::bigint <> s.overdue_principal
                OR (l.overdue_interest * 100)::bigint <> s.overdue_interest""", [AS_OF])
        return cursor.fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=None,
                        help="repayment events (default 20 per loan: 2,000,000 for 100,000)")
    args = parser.parse_args()
    events = args.events or args.loans * 20
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_loans_dpd")
    recreate_database(url)
    setup_django(url)
    t0 = time.perf_counter()
    loans = seed_loans(args.loans)
    written = seed_events(loans, events)
    print(f"  (seeded {args.loans:,} loans, {args.loans * INSTALMENTS:,} instalments and "
          f"{written:,} repayment events with COPY in {time.perf_counter() - t0:.1f} s)")
    from django.db import connection

    from apps.loans.dpd_sweep import chunk_size
    from apps.loans.models import LoanDpd

    t_sql = sql_baseline()
    t_first = nightly_run()
    points = LoanDpd.objects.count()
    t_rerun = nightly_run()
    t_sql2 = sql_baseline()
    t_sql = min(t_sql, t_sql2)
    bad = mismatches()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FILTER (WHERE dpd_principal > 0 OR dpd_interest > 0) "
                       "FROM sql_dpd")
        in_arrears = cursor.fetchone()[0]
    print(f"  ({args.loans:,} loans, {written:,} events, {in_arrears:,} loans past due, "
          f"{points:,} change points; chunks of {chunk_size():,}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"SQL window-function figures: {t_sql:.2f} s ({args.loans / t_sql:,.0f} loans/s)")
    print(f"nightly DPD recompute, first night (history written): {t_first:.2f} s = "
          f"{t_first / t_sql:.2f}x SQL in this run (target <= 3x)")
    print(f"nightly DPD recompute, rerun (nothing changes): {t_rerun:.2f} s = "
          f"{t_rerun / t_sql:.2f}x SQL in this run (target <= 3x)")
    print(f"same figures as SQL: {'yes' if bad == 0 else f'NO, {bad:,} loans differ'}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
