"""Application list and detail pages at 10,000 applications, against a bare page of the app.

Prints, for the team lead's pipeline list (page of 25) and one application's detail page:
  * the query count at 100 and at 10,000 applications (must be equal: constant in the rows);
  * median and p95 latency through the whole Django stack (middleware, session, auth,
    templates), and the ratio to a bare page — the base template with the same user and
    navigation, measured in the same run.

Runs on PostgreSQL in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench), which it drops and recreates. The rows
are bulk-inserted: this measures reading, not the services that write them.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="applications at full size")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    return parser.parse_args()


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # BENCH_TEMPLATE_DATABASE: a database already migrated to this code's migrations,
        # copied instead of migrating from nothing (minutes on a loaded machine).
        template = os.environ.get("BENCH_TEMPLATE_DATABASE")
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def _setup_django(url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",  # DEBUG's query log is not what a bank runs
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()


def _add_bare_page() -> str:
    """A page of the same app with no work of its own: the latency baseline."""
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import render
    from django.urls import clear_url_caches, path

    from config import urls

    @login_required
    def bare(request):
        return render(request, "base.html", {})

    urls.urlpatterns.append(path("bench-bare/", bare, name="bench-bare"))
    clear_url_caches()
    return "/bench-bare/"


def _seed(rows_wanted: int) -> None:
    """Bulk-insert applications (and enough enterprises) up to `rows_wanted` in total."""
    import datetime as dt
    import random
    from decimal import Decimal

    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.applications.states import ApplicationState
    from apps.org.models import Branch
    from apps.parties.models import Enterprise
    from apps.parties.validators import uscc_check_char
    from apps.products.models import ProductVersion

    have = Application.objects.count()
    if have >= rows_wanted:
        return
    rng = random.Random(rows_wanted)
    north = Branch.objects.get(code="north")
    manager = User.objects.get(username="am.north")
    versions = list(ProductVersion.objects.all())
    start = Enterprise.objects.count()
    count = (rows_wanted - have) // 4 + 1  # about four applications per enterprise
    enterprises = []
    for n in range(start, start + count):
        first17 = f"91330106{n:09d}"
        enterprises.append(Enterprise(
            name=f"基准企业{n}有限公司", uscc=first17 + uscc_check_char(first17), industry="C",
            registration_date=dt.date(2015, 1, 1), tax_credit_rating="A", size_class="small",
            annual_revenue=Decimal("5000000"), employees=20, branch=north))
    enterprises = Enterprise.objects.bulk_create(enterprises, batch_size=2000)
    states = list(ApplicationState)
    applications = [
        Application(reference=f"BN{have + i:08d}", enterprise=enterprises[i % len(enterprises)],
                    product_version=versions[i % len(versions)], branch=north,
                    account_manager=manager, created_by=manager, state=states[i % len(states)],
                    amount_requested=Decimal(rng.randrange(50, 3000) * 1000), term_months=12,
                    purpose="Working capital", repayment_method="equal_instalment",
                    collateral_type="none")
        for i in range(rows_wanted - have)]
    Application.objects.bulk_create(applications, batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a bank
        cursor.execute("ANALYZE")


def _measure(client, url: str, requests: int) -> tuple[int, float, float]:
    """(queries of one request, median ms, p95 ms) after two warm-up requests."""
    from django.db import connection

    for _ in range(2):
        assert client.get(url).status_code == 200, url
    # An execute wrapper, not CaptureQueriesContext: request_started resets the query log.
    captured = []

    def count(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, url
    timings = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return len(captured), statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> int:
    args = _parse_args()
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench")
    _recreate_database(url)
    _setup_django(url)

    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from apps.demo.seed import seed_demo
    from apps.products.seed import seed_products

    seed_demo()
    import datetime as dt

    seed_products(effective_from=dt.date(2026, 1, 1))
    bare_url = _add_bare_page()

    from apps.accounts.models import User
    from apps.applications.models import Application

    client = Client()
    client.force_login(User.objects.get(username="lead.north"))
    results = {}
    for size in (100, args.rows):
        _seed(size)
        detail_url = f"/applications/{Application.objects.order_by('id').first().pk}/"
        results[size] = {
            "bare": _measure(client, bare_url, args.requests),
            "list": _measure(client, "/applications/", args.requests),
            "detail": _measure(client, detail_url, args.requests),
        }

    small, full = results[100], results[args.rows]
    for page in ("list", "detail"):
        q_small, q_full = small[page][0], full[page][0]
        median, p95 = full[page][1], full[page][2]
        bare = full["bare"][1]
        verdict = "constant" if q_small == q_full else "GROWS WITH ROWS"
        print(f"application {page} page at {args.rows:,} applications: {q_full} queries "
              f"({q_small} at 100: {verdict}); median {median:.1f} ms, p95 {p95:.1f} ms, "
              f"{median / bare:.1f}x the bare page ({bare:.1f} ms, {full['bare'][0]} queries)")
    return 0 if all(small[p][0] == full[p][0] for p in ("list", "detail")) else 1


if __name__ == "__main__":
    sys.exit(main())
