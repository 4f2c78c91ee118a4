"""External-data pulls through a real Celery worker against the court stand-in answering in
50 ms, as a ratio to the same queries made directly in one process; and the cache-hit path.

  * baseline: the same N court searches sent one after another from this process with
    requests (no database, no broker): the cost of asking the source itself;
  * worker: N pulls requested through `services.pull_request` (consent, budget, pull row,
    audit event, outbox row, commit, send) and run by `celery worker --pool prefork -c 4`
    (claim, query, records, breaker, audit): from the first request to the last pull stored.
    Target: ≤ 2x the baseline;
  * cache hit (alone with --cache-only, the paid answers then made in this process): the
    same N requests again inside the freshness window, each answered from the
    cache without a lock (one cache pull row written, nothing sent): p50 / p95, target p95 <
    5 ms; then the time the periodic sweep takes to write their N audit events in bulk.

Runs in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_datahub), dropped and recreated, on Redis
database BENCH_REDIS_DB (default 10); the worker reads the interactive queue there only.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = f"bench-{uuid.uuid4().hex[:10]}"


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _backend_cpu(connection) -> float | None:
    """Seconds of CPU the connection's PostgreSQL backend has used (user + system), from
    /proc when the server runs on this machine; None otherwise."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if b"postgres" not in cmdline.read():
                return None   # another machine's (or container's) process id
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_phase(args, court, firms, officer):
    """Baseline (direct searches) then the same pulls through a prefork worker; returns
    (status, direct seconds, requesting seconds, worker seconds)."""
    import requests

    from apps.datahub import services
    from apps.datahub.models import Pull
    from apps.datahub.states import PullState

    # Baseline: the same searches, sent directly, one after another.
    session = requests.Session()
    t0 = time.perf_counter()
    for f in firms:
        session.post(court.url + "/api/v2/search", timeout=5,
                     json={"request_id": str(uuid.uuid4()),
                           "subject": {"uscc": f.uscc, "name": f.name}}).raise_for_status()
    t_direct = time.perf_counter() - t0
    court.service.reset()
    court.service.latency = args.latency

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", str(args.concurrency), "--queues", "interactive", "--hostname",
         f"{TOKEN}@localhost", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(3)  # let the worker connect; its start-up is not the pulls' time
        if worker.poll() is not None:
            print("worker did not start", file=sys.stderr)
            return 1, 0, 0, 0
        t0 = time.perf_counter()
        for f in firms:
            services.pull_request(enterprise_id=f.pk, source="court", purpose="pre_loan",
                                  actor=officer)
        t_requested = time.perf_counter() - t0
        deadline = time.monotonic() + 600
        while Pull.objects.filter(state__in=[PullState.REQUESTED, PullState.RUNNING]).exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                print("pulls did not finish", file=sys.stderr)
                return 1, 0, 0, 0
            time.sleep(0.05)
        t_worker = time.perf_counter() - t0
    finally:
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)

    return 0, t_direct, t_requested, t_worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cache-only", action="store_true",
                        help="only the cache-hit part: the paid answers are made in this "
                             "process (no baseline, no worker)")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL",
                            "postgres://postgres@127.0.0.1:5432/credence_bench_datahub")
    redis_base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    redis_url = urlparse(redis_base)._replace(
        path=f"/{os.environ.get('BENCH_REDIS_DB', '10')}").geturl()
    _recreate_database(db_url)

    from apps.datahub.testservers.base import LoopbackServer
    from apps.datahub.testservers.court import CourtService

    court = LoopbackServer(CourtService()).start()
    court.service.latency = args.latency
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url,
        "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING", "DATAHUB_COURT_URL": court.url,
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    })
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from apps.datahub import services
    from apps.datahub.models import Consent, Pull
    from apps.datahub.states import PullState
    from apps.investigations.models import PolicyValue
    from apps.parties.models import Enterprise
    from apps.parties.tests.factories import BranchFactory, make_uscc, make_user

    PolicyValue.objects.filter(key="datahub.budget.monthly").update(value=10**9)
    branch = BranchFactory(code="bench")
    officer = make_user("bench.am", branch=branch, roles=["account_manager"])
    firms = Enterprise.objects.bulk_create([
        Enterprise(name=f"Bench {n}", uscc=make_uscc(900000 + n), industry="C", branch=branch)
        for n in range(args.pulls)])
    today = timezone.localdate()
    Consent.objects.bulk_create([
        Consent(enterprise=f, signed_by="bench", sources=["court"], purpose="pre_loan",
                valid_from=today, valid_until=today, document_reference="B", recorded_by=officer)
        for f in firms])

    if args.cache_only:
        court.service.latency = 0
        t_direct = t_worker = t_requested = 0.0
        for f in firms:
            pull = services.pull_request(enterprise_id=f.pk, source="court",
                                         purpose="pre_loan", actor=officer)
            services.pull_run(pull_id=pull.pk)
    else:
        status, t_direct, t_requested, t_worker = _worker_phase(args, court, firms, officer)
        if status:
            return status
    failed = Pull.objects.exclude(state=PullState.SUCCEEDED).count()
    calls = court.service.calls
    # The machine's database round trip in this run (SELECT 1), to read the cache-hit times
    # against: the cache hit is a handful of round trips.
    from django.db import connection

    trips = []
    with connection.cursor() as cursor:
        for _ in range(len(firms)):
            t = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            trips.append((time.perf_counter() - t) * 1000)
    trips.sort()
    trip50, trip95 = statistics.median(trips), trips[int(len(trips) * 0.95) - 1]
    # Cache hits: the same questions again; with the CPU they took here and in the database
    # backend (read from /proc when the database runs on this machine), which a loaded machine
    # stretches far less than the wall clock.
    backend0, cpu0 = _backend_cpu(connection), time.process_time()
    times = []
    for f in firms:
        t = time.perf_counter()
        pull = services.pull_request(enterprise_id=f.pk, source="court", purpose="pre_loan",
                                     actor=officer)
        times.append((time.perf_counter() - t) * 1000)
        assert pull.channel == "cache"
    cpu_here = (time.process_time() - cpu0) / len(firms) * 1000
    backend1 = _backend_cpu(connection)
    cpu_backend = (None if backend0 is None or backend1 is None
                   else (backend1 - backend0) / len(firms) * 1000)
    # Their audit events, written afterwards in bulk by the periodic sweep (apps/datahub/cache.py).
    from apps.audit.models import AuditEvent
    from apps.datahub.cache import cache_hits_audit

    t = time.perf_counter()
    audited = 0
    while True:
        done = cache_hits_audit()
        audited += done
        if not done:
            break
    t_audit = time.perf_counter() - t
    events = AuditEvent.objects.filter(action="datahub.pull_answered_from_cache").count()
    court.stop()
    times.sort()
    p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    ratio = t_worker / t_direct if t_direct else 0.0
    if args.cache_only:
        print(f"  ({args.pulls} court answers made in this process, then asked again; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    else:
        print(f"  ({args.pulls} court pulls, {args.latency * 1000:.0f} ms source latency, "
              f"prefork -c {args.concurrency}; {calls} queries reached the source, {failed} "
              f"pulls not succeeded; requesting took {t_requested:.1f} s of the worker phase; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    if not args.cache_only:
        print(f"datahub pulls through the worker: {t_worker:.1f} s for {args.pulls}, "
              f"{ratio:.2f}x the direct in-process queries ({t_direct:.1f} s); target <= 2x: "
              f"{'met' if ratio <= 2 else 'MISSED'}")
    print(f"datahub cache hit: p50 {p50:.1f} ms, p95 {p95:.1f} ms; target p95 < 5 ms: "
          f"{'met' if p95 < 5 else 'MISSED'}")
    print(f"  (CPU per cache hit, averaged over {len(times)}: {cpu_here:.2f} ms in this process, "
          + (f"{cpu_backend:.2f} ms in the database backend)" if cpu_backend is not None
             else "the database backend's not readable here)"))
    print(f"  (database round trip SELECT 1 in this run: p50 {trip50:.2f} ms, p95 {trip95:.2f} "
          f"ms; the cache hit's p95 is {p95 / trip95:.1f} round trips)")
    print(f"  (cache answers' audit events written by the sweep: {audited} in {t_audit:.1f} s, "
          f"{events} on the chain for {len(times)} cache answers)")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
