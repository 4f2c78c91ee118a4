"""The approver's inbox with 10,000 open applications waiting, against a bare page of the app.

Prints, for the inbox (page of 50, oldest first, and sorted by amount) of a branch approver:
  * the query count with 100 and with 10,000 steps waiting (must be equal: constant in rows);
  * median and p95 latency through the whole Django stack, and the ratios (of medians, and of
    p95s) to a bare page (the base template with the same user and menu, measured in the same
    run).

Runs on PostgreSQL in a database of its own (BENCH_INBOX_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_inbox), dropped and recreated. Rows are
bulk-inserted (applications in approval, their frozen routes and waiting steps): this
measures reading, not the services that write them.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_application_pages import (  # noqa: E402  (bench helpers shared with the pages bench)
    _add_bare_page,
    _measure,
    _recreate_database,
    _setup_django,
)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="open applications at full size")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    return parser.parse_args()


def _seed(rows_wanted: int) -> None:
    """Bulk-insert applications in approval, each with a route whose first step waits."""
    import datetime as dt
    import random
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.applications.states import ApplicationState
    from apps.approvals.models import ApprovalRoute, ApprovalStep, AuthorityRule
    from apps.approvals.states import StepState
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
    rule = AuthorityRule.objects.filter(steps__0__level=1).select_related("matrix").first()
    count = rows_wanted - have
    start = Enterprise.objects.count()
    enterprises = []
    for n in range(start, start + count // 4 + 1):
        first17 = f"91330106{n:09d}"
        enterprises.append(Enterprise(
            name=f"基准企业{n}有限公司", uscc=first17 + uscc_check_char(first17), industry="C",
            registration_date=dt.date(2015, 1, 1), tax_credit_rating="A", size_class="small",
            annual_revenue=Decimal("5000000"), employees=20, branch=north))
    enterprises = Enterprise.objects.bulk_create(enterprises, batch_size=2000)
    applications = Application.objects.bulk_create([
        Application(reference=f"BI{have + i:08d}", enterprise=enterprises[i % len(enterprises)],
                    product_version=versions[i % len(versions)], branch=north,
                    account_manager=manager, created_by=manager,
                    state=ApplicationState.IN_APPROVAL,
                    amount_requested=Decimal(rng.randrange(50, 1000) * 1000), term_months=12,
                    purpose="Working capital", repayment_method="equal_instalment",
                    collateral_type="none")
        for i in range(count)], batch_size=2000)
    routes = ApprovalRoute.objects.bulk_create([
        ApprovalRoute(application=application, round=1, matrix=rule.matrix, rule=rule,
                      amount_basis=application.amount_requested,
                      grade=rng.choice(["A", "B", "C", "ungraded"]))
        for application in applications], batch_size=2000)
    now = timezone.now()
    steps = []
    for route in routes:
        opened = now - dt.timedelta(hours=rng.randrange(1, 200))
        steps.append(ApprovalStep(
            route=route, position=1, kind="individual", level=1, label_en="Branch approver",
            deadline_hours=48, remind_after_hours=24, state=StepState.WAITING, opened_at=opened,
            amount_basis=route.amount_basis,
            due_at=opened + dt.timedelta(hours=48), remind_at=opened + dt.timedelta(hours=24)))
    ApprovalStep.objects.bulk_create(steps, batch_size=2000)
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a bank
        cursor.execute("ANALYZE")


def main() -> int:
    args = _parse_args()
    url = os.environ.get("BENCH_INBOX_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_inbox")
    _recreate_database(url)
    _setup_django(url)

    import datetime as dt

    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from apps.accounts.models import User
    from apps.approvals.seed import seed_approvals
    from apps.demo.seed import seed_demo
    from apps.products.seed import seed_products

    seed_demo()
    seed_products(effective_from=dt.date(2026, 1, 1))
    seed_approvals()
    bare_url = _add_bare_page()
    client = Client()
    client.force_login(User.objects.get(username="approver.north"))
    pages = {"inbox": "/approvals/", "inbox by amount": "/approvals/?sort=-amount"}

    _seed(100)
    small = {name: _measure(client, url, 3)[0] for name, url in pages.items()}
    _seed(args.rows)
    bare_q, bare_med, bare_p95 = _measure(client, bare_url, args.requests)
    print(f"bare page: {bare_q} queries, median {bare_med:.1f} ms, p95 {bare_p95:.1f} ms")
    for name, page_url in pages.items():
        queries, median, p95 = _measure(client, page_url, args.requests)
        print(f"{name}: {queries} queries at {args.rows:,} waiting ({small[name]} at 100: "
              f"{'constant' if queries == small[name] else 'NOT constant'}), median "
              f"{median:.1f} ms, p95 {p95:.1f} ms, {median / bare_med:.1f}x the bare page "
              f"(p95 {p95 / bare_p95:.2f}x; issue #23 (5): p95 <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
