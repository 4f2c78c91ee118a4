"""Readiness (/readyz) latency as a ratio to liveness (/livez) in the same run.

Both through the whole Django stack (test client, every middleware), anonymous, as a load
balancer's probe is:
  * baseline: `/livez`, which does no I/O;
  * `/readyz` with a real worker answering: database connection + `SELECT 1`, broker connection,
    storage, and a broadcast ping that ends at the first worker's answer, all at once (target:
    p95 under 100 ms);
  * `/readyz` with no worker: the ping waits, and the budget (HEALTH_READINESS_BUDGET_SECONDS)
    bounds the answer; before the budget this probe took 3 s.

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/credence_bench_healthz,
dropped and recreated; nothing is written) and Redis database BENCH_REDIS_DB (5), whose keys for
this run's worker are deleted afterwards.
"""

import argparse
import logging
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


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def _measure(client, path: str, requests: int, expect: int) -> tuple[float, float]:
    for _ in range(5):  # warm: URLconf, connections, pool threads
        client.get(path)
    samples = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - t0)
        if response.status_code != expect:
            raise SystemExit(f"{path} answered {response.status_code}, expected {expect}: "
                             f"{response.content[:500]!r}")
    return _percentiles(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-worker-requests", type=int, default=20)
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL",
                            "postgres://postgres@127.0.0.1:5432/credence_bench_healthz")
    redis_base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    redis_url = urlparse(redis_base)._replace(
        path=f"/{os.environ.get('BENCH_REDIS_DB', '5')}").geturl()
    _recreate_database(db_url)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
        "CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url,
        "OMP_NUM_THREADS": "1", "LOG_LEVEL": "CRITICAL",
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    })
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from config.celery import app

    # Each 503 of the no-worker run is logged at ERROR by Django; not news here.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    client = Client()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", f"{TOKEN}.idle", "--hostname", f"{TOKEN}@localhost", "--loglevel", "ERROR",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[f"{TOKEN}@localhost"], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                print("worker did not start", file=sys.stderr)
                return 1
        live50, live95 = _measure(client, "/livez", args.requests, 200)
        ready50, ready95 = _measure(client, "/readyz", args.requests, 200)
    finally:
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    # Our worker is gone, and Redis database 5 is the bench's own: nobody answers now.
    gone50, gone95 = _measure(client, "/readyz", args.no_worker_requests, 503)
    import redis

    broker = redis.Redis.from_url(redis_url)
    for key in broker.scan_iter(match=f"*{TOKEN}*"):
        broker.delete(key)
    budget_ms = settings.HEALTH_READINESS_BUDGET_SECONDS * 1000
    print(f"  ({args.requests} requests each, Django test client, PostgreSQL, Redis db "
          f"{urlparse(redis_url).path.lstrip('/')}, one solo worker, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"liveness /livez: p50 {live50:.1f} ms, p95 {live95:.1f} ms")
    print(f"readiness /readyz (database, broker, storage, worker): p50 {ready50:.1f} ms, "
          f"p95 {ready95:.1f} ms = {ready95 / live95:.1f}x /livez (p95); target p95 < 100 ms: "
          f"{'met' if ready95 < 100 else 'NOT met'}")
    print(f"readiness with no worker answering (503): p50 {gone50:.0f} ms, p95 {gone95:.0f} ms "
          f"(budget {budget_ms:.0f} ms)")
    return 0 if ready95 < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
