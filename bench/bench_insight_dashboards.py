"""The insight dashboards at 100,000 loans and 1,000,000 audit events, against a bare page.

For each page (portfolio, pipeline and SLA, officer scorecard, product thresholds, the
notification centre, one enterprise's portrait), as the team lead of the north branch sees it:
  * the query count at a small book and at the full one (must be equal: constant in the rows;
    exit 1 if any grows);
  * median and p95 latency through the whole Django stack, and the p95 as a ratio to the
    median of a bare page (the base template, same user and menu) measured in the same run
    (issue 22's target: p95 within 5x).

Loans are generated with COPY by the monitoring bench's generator (applications, contracts,
disbursements, borrowers); the audit events inside PostgreSQL (INSERT … SELECT
generate_series), most of them application moves with `from`/`to` spread over 200 days, so
the pipeline's time-in-step query has a real trail to read. PostgreSQL, in a database of its
own (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/credence_bench_insight),
dropped and recreated.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGES = ["portfolio", "pipeline", "officers", "thresholds", "notifications", "portrait"]


def _setup(url: str, reuse: bool = False) -> None:
    from bench_monitoring_run import _recreate_database

    if not reuse:
        _recreate_database(url)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": "memory://",
                       "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
                       "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if reuse:
        return
    from apps.demo.seed import seed_demo
    from apps.monitoring.seed import seed_monitoring
    from apps.products.seed import seed_products

    seed_demo()
    seed_products(effective_from=dt.date(2020, 1, 1))
    seed_monitoring()


def _add_bare_page() -> str:
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


def _audit_events(count: int) -> None:
    """`count` events after the chain's head: nine in ten are moves of the generated
    applications (submitted → … → disbursed, in order per application), the rest edits."""
    from django.db import connection

    from apps.applications.models import Application

    ids = Application.objects.filter(reference__startswith="BM").order_by("id")
    first, last = ids.first().pk, ids.last().pk
    span = last - first + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent")
        head = cursor.fetchone()[0]
        cursor.execute("""
            WITH steps(n, action, src, dst) AS (VALUES
                (0, 'application.submitted', 'draft', 'submitted'),
                (1, 'application.investigation_started', 'submitted', 'investigating'),
                (2, 'application.sent_to_review', 'investigating', 'under_review'),
                (3, 'application.sent_to_approval', 'under_review', 'in_approval'),
                (4, 'application.approved', 'in_approval', 'approved'),
                (5, 'application.contracted', 'approved', 'contracted'),
                (6, 'application.disbursed', 'contracted', 'disbursed'),
                (7, 'application.updated', 'disbursed', 'disbursed'),
                (8, 'application.updated', 'disbursed', 'disbursed'),
                (9, 'application.updated', 'disbursed', 'disbursed'))
            INSERT INTO audit_auditevent (seq, occurred_at, action, actor_id, subject_type,
                subject_id, branch_id, application_id, enterprise_id, payload, request_id,
                prev_hash, hash)
            SELECT %(head)s + g,
                   now() - interval '200 days' + (g::float / %(count)s) * interval '200 days',
                   s.action, a.account_manager_id, 'applications.application', a.id::text,
                   a.branch_id, a.id, a.enterprise_id,
                   jsonb_build_object('from', s.src, 'to', s.dst, 'comment', '',
                                      'reference', a.reference),
                   NULL, encode(sha256((%(head)s + g - 1)::text::bytea), 'hex'),
                   encode(sha256((%(head)s + g)::text::bytea), 'hex')
            FROM generate_series(1, %(count)s) AS g
            JOIN applications_application a ON a.id = %(first)s + (g %% %(span)s)
            JOIN steps s ON s.n = (g / %(span)s) %% 10""",
                       {"head": head, "count": count, "first": first, "span": span})
        cursor.execute("ANALYZE")


def _summaries() -> None:
    """What beat does every minute (apps/insight/summaries.py): the dashboards' summaries catch
    up from their watermark; timed, as it is the cost moved off the page."""
    from apps.insight.portfolio_facts import refresh_portfolio_facts
    from apps.insight.summaries import refresh_step_clock

    t0 = time.perf_counter()
    written = refresh_step_clock()
    facts = refresh_portfolio_facts()
    from apps.insight.officer_facts import refresh_officer_cells

    refresh_officer_cells()
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum does to a table just filled
        cursor.execute("VACUUM ANALYZE insight_stepclock")
        cursor.execute("VACUUM ANALYZE insight_openfile")
        cursor.execute("VACUUM ANALYZE insight_loanfact")
        cursor.execute("VACUUM ANALYZE insight_borrowertotal")
        cursor.execute("VACUUM ANALYZE insight_stepday")
    print(f"  (insight summaries caught up: {written:,} moves and {facts:,} loan facts in "
          f"{time.perf_counter() - t0:.1f} s; a second run: {refresh_step_clock():,} moves)")


def _measure(client, url: str, requests: int) -> tuple[int, float, float]:
    """(queries of one request, median ms, p95 ms) after two warm-up requests."""
    from django.db import connection

    for _ in range(2):
        assert client.get(url).status_code == 200, url
    captured = []

    def count(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return len(captured), statistics.median(timings), timings[max(0, int(len(timings) * 0.95)
                                                                  - 1)]


def _urls() -> dict[str, str]:
    from apps.parties.models import Enterprise

    firm = Enterprise.objects.filter(name__startswith="基准企业", branch__code="north") \
        .order_by("id").first()
    return {"portfolio": "/insight/portfolio/", "pipeline": "/insight/pipeline/",
            "officers": "/insight/officers/", "thresholds": "/insight/thresholds/",
            "notifications": "/insight/notifications/",
            "portrait": f"/insight/enterprises/{firm.pk}/"}


def _reused(client, bare_url: str, pages: list[str], requests: int) -> int:
    _summaries()
    bare = _measure(client, bare_url, requests * 2)
    print(f"bare page: median {bare[1]:.1f} ms, p95 {bare[2]:.1f} ms, {bare[0]} queries "
          f"(reused database; load average {os.getloadavg()[0]:.1f})")
    for page, page_url in _urls().items():
        if page in pages:
            queries, median, p95 = _measure(client, page_url, requests)
            print(f"insight {page} (reused database): {queries} queries; median {median:.1f} "
                  f"ms, p95 {p95:.1f} ms = {p95 / bare[1]:.1f}x the bare page's median")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000, help="loans in the small book")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--reuse", action="store_true",
                        help="time the pages on a database an earlier full run generated (say, "
                             "a copy made with createdb -T): migrate it and catch its summaries "
                             "up, but generate nothing; the small-book query count is not "
                             "re-measured, so this is for iterating, not for the figures")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_insight")
    _setup(url, reuse=args.reuse)
    from bench_monitoring_run import _generate
    from django.test import Client

    from apps.accounts.models import User

    bare_url = _add_bare_page()
    pages = [p for p in args.pages.split(",") if p in PAGES]
    client = Client()
    client.force_login(User.objects.get(username="lead.north"))
    if args.reuse:
        return _reused(client, bare_url, pages, args.requests)

    _generate(args.small, 0, seed=1)
    _audit_events(args.small * 10)
    _summaries()
    small = {page: _measure(client, u, 3) for page, u in _urls().items() if page in pages}

    t0 = time.perf_counter()
    _generate(args.loans - args.small, args.small, seed=2)
    _audit_events(args.events - args.small * 10)
    print(f"  (generated {args.loans:,} loans and {args.events:,} more audit events in "
          f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")
    _summaries()
    bare = _measure(client, bare_url, args.requests * 2)
    print(f"bare page: median {bare[1]:.1f} ms, p95 {bare[2]:.1f} ms, {bare[0]} queries")
    ok = True
    for page, page_url in _urls().items():
        if page not in pages:
            continue
        queries, median, p95 = _measure(client, page_url, args.requests)
        constant = queries == small[page][0]
        ok &= constant
        ratio = p95 / bare[1]
        print(f"insight {page} at {args.loans:,} loans / {args.events:,} audit events: "
              f"{queries} queries ({small[page][0]} at {args.small:,} loans: "
              f"{'constant' if constant else 'GROWS WITH ROWS'}); median {median:.1f} ms, "
              f"p95 {p95:.1f} ms = {ratio:.1f}x the bare page's median (target <= 5x: "
              f"{'met' if ratio <= 5 else 'MISSED'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
