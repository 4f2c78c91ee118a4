"""The monthly classification and signal run over 100,000 loans, as a ratio to a plain SQL
computation of the DPD floors alone in the same run (target <= 5x), and its memory: the
tracemalloc peak of a run over 10,000 loans against one over 100,000 (must be flat).

  * baseline: one SQL statement computing every open loan's DPD floor with the policy
    thresholds in force, grouped by category (no signals, no writes);
  * full: `classification_run_start` (chunks recorded, one task message per chunk) and every
    chunk through `classification_chunk_run`, as the worker runs it: W01 signals opened /
    updated / resolved, mandatory actions for new signals, document and score signals
    looked up, floors (DPD, restructuring, signal floors, cross-default over each borrower's
    whole exposure), risk status upserted, system proposals, the month's snapshot, one audit
    event per chunk.

Loans are generated with COPY (about 2.5 loans per borrower so cross-default has work; DPD
spread over every band, some loans restructured). PostgreSQL, in a database of its own
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/credence_bench_monitoring),
dropped and recreated.
"""

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _copy(model, rows, given: list[str]) -> None:
    """COPY rows (tuples in `given` order) into the model's table, every other NOT NULL
    column filled with the field's Python default (Django defaults are not SQL defaults)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    extra = [f for f in fields if f.column not in given and f.attname not in given]
    defaults = []
    for f in extra:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults.append(now)
        else:  # the default, or "" for a NOT NULL text field, or None
            defaults.append(f.get_default())
    columns = ", ".join(f'"{c}"' for c in [*given, *(f.column for f in extra)])
    defaults = [_text(v) for v in defaults]
    statement = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([*(_text(v) for v in row), *defaults])


def _generate(count: int, start: int, seed: int) -> None:
    """`count` loans (with applications, contracts, disbursements, borrowers) by COPY."""
    from django.db import connection

    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.loans.models import Disbursement, Loan, LoanContract
    from apps.org.models import Branch
    from apps.parties.models import Enterprise
    from apps.parties.tests.factories import make_uscc
    from apps.products.models import ProductVersion

    rng = random.Random(seed)
    branches = list(Branch.objects.filter(code__in=["north", "south"]))
    version = ProductVersion.objects.filter(product__code="tax-credit-loan").first()
    managers = {b.pk: User.objects.get(username=f"am.{b.code}").pk for b in branches}
    officers = {b.pk: User.objects.get(username=f"postloan.{b.code}").pk for b in branches}
    firms = count * 2 // 5
    _copy(Enterprise, ((f"基准企业{start + i}", make_uscc(start + i), "C",
                        branches[i % 2].pk) for i in range(firms)),
          ["name", "uscc", "industry", "branch_id"])
    firm_ids = [r[0] for r in Enterprise.objects.filter(name__startswith="基准企业").order_by(
        "-id").values_list("id", "branch_id")[:firms]]
    firm_branch = dict(Enterprise.objects.filter(pk__in=firm_ids).values_list("id",
                                                                             "branch_id"))
    today = dt.date.today()
    plan = []
    for i in range(count):
        firm = firm_ids[i % firms]
        branch = firm_branch[firm]
        roll = rng.random()
        dpd = (0 if roll < 0.85 else rng.randint(1, 29) if roll < 0.93 else
               rng.randint(30, 90) if roll < 0.96 else rng.randint(91, 270) if roll < 0.98
               else rng.randint(271, 360) if roll < 0.99 else rng.randint(361, 700))
        state = "restructured" if rng.random() < 0.005 else "active"
        value_date = today - dt.timedelta(days=rng.randint(30, 1500))
        plan.append((start + i, firm, branch, dpd, state, value_date,
                     Decimal(rng.randint(50, 3000) * 1000)))
    _copy(Application, ((f"BM{n:09d}", firm, version.pk, branch, managers[branch], "approved",
                         amount, amount) for n, firm, branch, _d, _s, _v, amount in plan),
          ["reference", "enterprise_id", "product_version_id", "branch_id",
           "account_manager_id", "state", "amount_requested", "amount_approved"])
    app_ids = dict(Application.objects.filter(reference__startswith="BM").values_list(
        "reference", "id"))
    _copy(LoanContract, ((app_ids[f"BM{n:09d}"], f"BC{n:09d}", branch, firm, amount, "5", 24,
                          "equal_instalment", "none", managers[branch])
                         for n, firm, branch, _d, _s, _v, amount in plan),
          ["application_id", "contract_number", "branch_id", "enterprise_id", "amount",
           "annual_rate", "term_months", "repayment_method", "collateral_type",
           "created_by_id"])
    contract_ids = dict(LoanContract.objects.filter(contract_number__startswith="BC")
                        .values_list("contract_number", "id"))
    _copy(Disbursement, ((contract_ids[f"BC{n:09d}"], amount, v, "6222", "independent",
                          managers[branch], "approved")
                         for n, _f, branch, _d, _s, v, amount in plan),
          ["contract_id", "amount", "value_date", "borrower_account", "payment_mode",
           "requested_by_id", "state"])
    disb_ids = dict(Disbursement.objects.filter(contract__contract_number__startswith="BC")
                    .values_list("contract__contract_number", "id"))
    _copy(Loan, ((f"BL{n:09d}", contract_ids[f"BC{n:09d}"], disb_ids[f"BC{n:09d}"],
                  app_ids[f"BM{n:09d}"], firm, branch, version.pk, officers[branch], state,
                  amount, "5", "equal_instalment", "independent", v,
                  v + dt.timedelta(days=730), amount, dpd, 0, today)
                 for n, firm, branch, dpd, state, v, amount in plan),
          ["loan_number", "contract_id", "disbursement_id", "application_id", "enterprise_id",
           "branch_id", "product_version_id", "officer_id", "state", "principal",
           "annual_rate", "repayment_method", "payment_mode", "value_date", "maturity_date",
           "outstanding_principal", "dpd_principal", "dpd_interest", "dpd_as_of"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _baseline(as_of) -> float:
    from apps.monitoring.services.run import dpd_floor_counts_sql

    t0 = time.perf_counter()
    dpd_floor_counts_sql(as_of=as_of)
    return time.perf_counter() - t0


def _write_floor(as_of) -> float:
    """The writes any monthly run must make, and nothing else: each open loan's snapshot row
    (with its DPD floor) INSERTed into an empty copy of the snapshot table with its indexes,
    and each loan's risk-status row UPDATEd in a copy holding the current rows. No signals,
    no other floors, no audit: the floor under any run that keeps a monthly snapshot."""
    from django.db import connection, transaction

    from apps.monitoring.floors import OPEN_STATES
    from apps.monitoring.models import ClassificationSnapshot, LoanRiskStatus
    from apps.monitoring.policy import K, Policy

    policy = Policy(on=as_of)
    snapshot, risk = ClassificationSnapshot._meta.db_table, LoanRiskStatus._meta.db_table
    floor = """CASE WHEN d > %(loss)s THEN 'loss' WHEN d > %(doubtful)s THEN 'doubtful'
                    WHEN d > %(sub)s THEN 'substandard' WHEN d > %(sm)s THEN 'special_mention'
                    ELSE 'normal' END"""
    params = {"loss": policy.integer(K.FLOOR_LOSS_DPD_GT),
              "doubtful": policy.integer(K.FLOOR_DOUBTFUL_DPD_GT),
              "sub": policy.integer(K.FLOOR_SUBSTANDARD_DPD_GT),
              "sm": policy.integer(K.FLOOR_SPECIAL_MENTION_DPD_GT),
              "states": list(OPEN_STATES), "as_of": as_of}
    loans = """SELECT id, branch_id, product_version_id, officer_id, outstanding_principal,
                      value_date, GREATEST(dpd_principal, dpd_interest) AS d
               FROM loans_loan WHERE state = ANY(%(states)s)"""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE floor_snapshot (LIKE {snapshot} INCLUDING ALL) "
                       "ON COMMIT DROP")
        cursor.execute(f"CREATE TEMP TABLE floor_risk (LIKE {risk} INCLUDING ALL) "
                       "ON COMMIT DROP")
        cursor.execute(f"INSERT INTO floor_risk SELECT * FROM {risk}")  # noqa: S608
        cursor.execute("ANALYZE floor_risk")
        t0 = time.perf_counter()
        cursor.execute(f"""
            INSERT INTO floor_snapshot (run_id, as_of, loan_id, branch_id, product_id,
                                        officer_id, vintage, category, floor, outstanding)
            SELECT (SELECT MAX(id) FROM monitoring_classificationrun), %(as_of)s, id,
                   branch_id, product_version_id, officer_id,
                   to_char(value_date, 'YYYY"Q"Q'), {floor}, {floor}, outstanding_principal
            FROM ({loans}) x""", params)  # noqa: S608 - table names from the models
        cursor.execute(f"""
            UPDATE floor_risk r SET floor = {floor}, floor_as_of = %(as_of)s,
                   updated_at = now()
            FROM ({loans}) x WHERE r.loan_id = x.id""", params)  # noqa: S608
        return time.perf_counter() - t0


def _full(as_of, trace: bool = True) -> tuple[float, int, dict]:
    from apps.monitoring.models import ClassificationRunChunk
    from apps.monitoring.services.run import (
        PHASE_SECONDS,
        classification_chunk_run,
        classification_run_start,
    )

    PHASE_SECONDS.clear()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    run = classification_run_start(as_of=as_of)
    totals: dict = {}
    for chunk_id in ClassificationRunChunk.objects.filter(run=run).values_list("pk",
                                                                               flat=True):
        counts = classification_chunk_run(chunk_id=chunk_id)
        for key, value in counts.items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    elapsed = time.perf_counter() - t0
    peak = 0
    if trace:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, peak, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000,
                        help="loans in the first (memory comparison) run")
    parser.add_argument("--no-trace", action="store_true",
                        help="time the runs without tracemalloc (which slows every Python "
                             "allocation); no memory line")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_monitoring")
    _recreate_database(url)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": "memory://",
                       "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.demo.seed import seed_demo
    from apps.monitoring.inspection_seed import seed_inspection_templates
    from apps.monitoring.seed import seed_monitoring
    from apps.products.seed import seed_products

    seed_demo()
    seed_products(effective_from=dt.date(2020, 1, 1))
    seed_monitoring()
    # The built-in post-loan templates: a special check after an L2/L3 signal is really
    # scheduled (without them each request only logs the policy gap).
    seed_inspection_templates()
    today = dt.date.today()

    t0 = time.perf_counter()
    _generate(args.small, 0, seed=1)
    print(f"  (generated {args.small:,} loans by COPY in {time.perf_counter() - t0:.1f} s)")
    small_time, small_peak, _ = _full(today - dt.timedelta(days=31), trace=not args.no_trace)

    t0 = time.perf_counter()
    _generate(args.loans - args.small, args.small, seed=2)
    print(f"  (generated {args.loans - args.small:,} more loans by COPY in "
          f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")
    t_base = min(_baseline(today) for _ in range(3))
    t_floor = min(_write_floor(today) for _ in range(3))
    t_full, peak, totals = _full(today, trace=not args.no_trace)
    from apps.monitoring.inspection_models import Inspection

    print(f"  (run over {totals['loans']:,} loans: {totals['signals_opened']:,} signals "
          f"opened, {totals['signals_updated']:,} updated, {totals['signals_resolved']:,} "
          f"resolved, {totals['actions_opened']:,} actions, {totals['proposals']:,} proposals, "
          f"{Inspection.objects.filter(kind='special').count():,} special checks scheduled "
          f"over both runs)")
    print(f"plain SQL DPD floors: {t_base:.3f} s ({totals['loans'] / t_base:,.0f} loans/s)")
    print(f"monthly classification and signal run: {t_full:.2f} s "
          f"({totals['loans'] / t_full:,.0f} loans/s) = {t_full / t_base:.1f}x the plain SQL "
          f"DPD floors in this run (target <= 5x)"
          f"{'; without tracemalloc' if args.no_trace else ''}")
    print(f"floor: the month's snapshot row INSERTed and the risk-status row UPDATEd for "
          f"every open loan, nothing else: {t_floor:.3f} s = {t_floor / t_base:.1f}x the plain "
          f"SQL DPD floors (no signals, no other floors, no audit)")
    from apps.monitoring.services.run import PHASE_SECONDS

    phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in PHASE_SECONDS.items())
    print(f"  (phases of the {args.loans:,}-loan run, seconds: {phases}; the rest is chunk "
          f"bookkeeping and the run's start)")
    if args.no_trace:
        return 0
    print(f"memory: tracemalloc peak {small_peak / 1e6:.1f} MB at {args.small:,} loans, "
          f"{peak / 1e6:.1f} MB at {args.loans:,} ({peak / small_peak:.2f}x; flat is ~1x); "
          f"{args.small:,}-loan run took {small_time:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
