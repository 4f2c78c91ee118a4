"""Load test of the account manager's and the approver's journeys through the HTTP API (issue
#23, bench 1), with locust, against 2 web processes (gunicorn) and 2 Celery workers on
separate queues (interactive; bulk + periodic) plus beat, on PostgreSQL and Redis.

Prints, per step of each journey: requests/s, median and p95, and the p95 as a ratio to the
bare authenticated GET (`GET /api/v1/me/`: token check, user and roles, nothing else) measured
in the same run by the same simulated people. Any failed request makes the bench exit 1.

The journeys are in bench/load/locustfile.py: the account manager creates, reads and submits
a file, lists the submitted ones, and autosaves an answer on an investigation in progress; the
approver opens the inbox (2,000 files waiting), a file and its route.

PostgreSQL database of its own (BENCH_LOAD_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_load, dropped and recreated); Redis
BENCH_LOAD_REDIS_URL (default redis://127.0.0.1:6379/11). Needs locust (`pip install -e
".[load]"`).
"""

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_application_pages import _recreate_database, _setup_django  # noqa: E402

PYTHON = sys.executable
BARE = "bare: GET /api/v1/me/"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16,
                        help="simulated people (3 account managers : 1 approver)")
    parser.add_argument("--seconds", type=int, default=60, help="measured run time")
    parser.add_argument("--waiting", type=int, default=2_000, help="files in the approver's inbox")
    return parser.parse_args()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(waiting: int) -> dict:
    """The demo book, files waiting for the approver, API tokens, and what a new file needs."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench_inbox import _seed as seed_inbox
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.applications.states import ApplicationState
    from apps.demo.seed import seed_demo

    seed_demo(with_business_data=True)
    seed_inbox(waiting)
    tokens = {role: Token.objects.get_or_create(user=User.objects.get(username=name))[0].key
              for role, name in (("account_manager", "am.north"), ("assistant", "assistant.north"),
                                 ("lead", "lead.north"), ("approver", "approver.north"))}
    # Terms of a file the account manager already submitted: a new one like it passes the
    # product's entry conditions (the bench measures the path, not a refusal).
    model = (Application.objects.filter(account_manager__username="am.north", branch__code="north")
             .exclude(state__in=[ApplicationState.DRAFT, ApplicationState.WITHDRAWN])
             .exclude(amount_requested=None).order_by("pk").first())
    return {
        "tokens": tokens,
        "officers": {"lead_officer_id": User.objects.get(username="am.north").pk,
                     "assisting_officer_id": User.objects.get(username="assistant.north").pk},
        "new_application": {
            "enterprise_id": model.enterprise_id, "product_version_id": model.product_version_id,
            "amount_requested": str(model.amount_requested), "term_months": model.term_months,
            "purpose": model.purpose or "Working capital",
            "repayment_method": model.repayment_method, "collateral_type": model.collateral_type},
        "answer_item": "D2_ANNUAL_SALES",
    }


def _env(database_url: str, redis_url: str, scratch: Path) -> dict:
    return os.environ | {
        "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING", "STATIC_ROOT": str(scratch / "static"),
        "MEDIA_ROOT": str(scratch / "media"), "OMP_NUM_THREADS": "1",
    }


def _start(env: dict, port: int, scratch: Path) -> list[subprocess.Popen]:
    def start(name, argv):
        with open(scratch / f"{name}.log", "w") as log:  # the child keeps its own copy
            return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    celery = [PYTHON, "-m", "celery", "-A", "config"]
    return [
        start("web", [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind",
                      f"127.0.0.1:{port}", "--workers", "2"]),
        start("worker-interactive", [*celery, "worker", "--queues", "interactive",
                                     "--concurrency", "1", "--hostname", "interactive@bench",
                                     "--loglevel", "WARNING"]),
        start("worker-bulk", [*celery, "worker", "--queues", "bulk,periodic", "--concurrency", "1",
                              "--hostname", "bulk@bench", "--loglevel", "WARNING"]),
        start("beat", [*celery, "beat", "--loglevel", "WARNING",
                       "--schedule", str(scratch / "beat-schedule")]),
    ]


def _wait_ready(base: str, timeout: float = 120.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base}/readyz did not answer 200 within {timeout:.0f} s")


def _investigations(base: str, plan: dict, count: int) -> list[int]:
    """Files in investigation, one per simulated account manager, made through the API."""
    import requests

    def call(role, method, path, body=None, expect=(200, 201)):
        response = requests.request(method, f"{base}/api/v1/{path}", json=body, timeout=60,
                                    headers={"Authorization": f"Token {plan['tokens'][role]}"})
        if response.status_code not in expect:
            raise SystemExit(f"{method} {path} as {role}: {response.status_code} {response.text}")
        return response.json()

    ids = []
    for _ in range(count):
        application = call("account_manager", "POST", "applications/", plan["new_application"])
        pk = application["id"]
        call("account_manager", "POST", f"applications/{pk}/submit/", {})
        call("lead", "POST", f"applications/{pk}/start-investigation/", {})
        investigation = call("lead", "POST", f"applications/{pk}/investigation/", plan["officers"])
        call("account_manager", "POST", f"investigations/{investigation['id']}/start/", {})
        ids.append(investigation["id"])
    return ids


def _report(stats_csv: Path, seconds: int) -> int:
    rows = {row["Name"]: row for row in csv.DictReader(stats_csv.open(encoding="utf-8"))}
    bare = rows[BARE]
    bare_p95 = float(bare["95%"])
    failures = 0
    print(f"{'step':<32} {'req/s':>7} {'median ms':>10} {'p95 ms':>8} {'p95 / bare p95':>15}")
    for name, row in rows.items():
        if name == "Aggregated":
            continue
        failures += int(row["Failure Count"])
        print(f"{name:<32} {float(row['Requests/s']):>7.1f} {float(row['50%']):>10.0f} "
              f"{float(row['95%']):>8.0f} {float(row['95%']) / bare_p95:>14.1f}x")
    total = rows["Aggregated"]
    print(f"all steps: {float(total['Requests/s']):.1f} requests/s over {seconds} s, "
          f"{int(total['Request Count']):,} requests, {failures} failed")
    return 1 if failures else 0


def main() -> int:
    args = _parse_args()
    database_url = os.environ.get("BENCH_LOAD_DATABASE_URL",
                                  "postgres://postgres@127.0.0.1:5432/credence_bench_load")
    redis_url = os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/11")
    _recreate_database(database_url)
    _setup_django(database_url)
    t0 = time.perf_counter()
    plan = _seed(args.waiting)
    print(f"  (demo book and {args.waiting:,} waiting files seeded in "
          f"{time.perf_counter() - t0:.0f} s)")
    from django.db import connections

    connections.close_all()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch_dir:
        scratch = Path(scratch_dir)
        env = _env(database_url, redis_url, scratch)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"],
                       cwd=ROOT, env=env, check=True)
        processes = _start(env, port, scratch)
        try:
            _wait_ready(base)
            am_users = args.users - args.users // 4
            plan["investigations"] = _investigations(base, plan, am_users)
            plan_file = scratch / "plan.json"
            plan_file.write_text(json.dumps(plan), encoding="utf-8")
            print(f"load: {args.users} simulated people (3 account managers : 1 approver), "
                  f"{args.seconds} s, 2 gunicorn web processes, workers on 'interactive' and "
                  f"'bulk,periodic'; load average before {os.getloadavg()[0]:.1f}")
            subprocess.run(
                [PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "load" / "locustfile.py"),
                 "--headless", "--users", str(args.users), "--spawn-rate", str(args.users),
                 "--run-time", f"{args.seconds}s", "--host", base, "--only-summary",
                 "--csv", str(scratch / "load"), "--loglevel", "WARNING"],
                cwd=ROOT, env=env | {"BENCH_LOAD_PLAN": str(plan_file)}, check=False,
                stdout=subprocess.DEVNULL, stderr=(scratch / "locust.log").open("w"))
            print(f"  (load average after {os.getloadavg()[0]:.1f})")
            return _report(scratch / "load_stats.csv", args.seconds)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    sys.exit(main())
