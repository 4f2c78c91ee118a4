"""Scoring one application through a real Celery worker, as a ratio to the no-op task round trip.

Both measured in this run on the same worker (`celery -A config worker --pool solo`, Redis broker
and result backend) against PostgreSQL:
  * baseline: `core.ping` with no probe, sent and its result fetched (the broker round trip);
  * fresh score: `scoring.application_score` for an application whose investigation is accepted,
    with its previous result deleted first, so each sample assembles the features (checklist,
    derived values, findings, exposure), scores with the champion, applies the decision policy
    and writes the result, its snapshot and its audit event;
  * replay: the same task again with nothing changed (the idempotent path: features assembled,
    the existing result found, nothing written).

Runs in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_scoring), dropped and recreated, and on Redis
database 4 (BENCH_REDIS_DB) with a queue named for this run; keys it created are deleted.
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
QUEUE = f"{TOKEN}.scoring"


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL",
                            "postgres://postgres@127.0.0.1:5432/credence_bench_scoring")
    redis_base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    redis_url = urlparse(redis_base)._replace(
        path=f"/{os.environ.get('BENCH_REDIS_DB', '4')}").geturl()
    _recreate_database(db_url)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url, "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.core.task_names import TaskName
    from apps.scoring.models import ScoreResult
    from config.celery import app

    with translation.override("en"):
        application = World().in_state("investigating")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", QUEUE, "--hostname", f"{TOKEN}@localhost", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)

    def call(name: str, **kwargs):
        return app.send_task(str(name), kwargs=kwargs, queue=QUEUE).get(timeout=30)

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                call(TaskName.CORE_PING)
                break
            except Exception:
                if worker.poll() is not None or time.monotonic() > deadline:
                    print("worker did not start", file=sys.stderr)
                    return 1
        for _ in range(5):  # warm: connections, model cache, first score
            call(TaskName.CORE_PING)
            call(TaskName.APPLICATION_SCORE, application_id=application.pk)
        ping, fresh, replay = [], [], []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            call(TaskName.CORE_PING)
            ping.append(time.perf_counter() - t0)
            ScoreResult.objects.filter(application_id=application.pk).delete()
            t0 = time.perf_counter()
            result_id = call(TaskName.APPLICATION_SCORE, application_id=application.pk)
            fresh.append(time.perf_counter() - t0)
            assert result_id is not None
            t0 = time.perf_counter()
            assert call(TaskName.APPLICATION_SCORE, application_id=application.pk) == result_id
            replay.append(time.perf_counter() - t0)
    finally:
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        import redis

        broker = redis.Redis.from_url(redis_url)
        for pattern in (f"*{TOKEN}*", "celery-task-meta-*"):
            for key in broker.scan_iter(match=pattern):
                broker.delete(key)
    (p50, p95), (f50, f95), (r50, r95) = (_percentiles(ping), _percentiles(fresh),
                                          _percentiles(replay))
    print(f"  ({args.samples} samples each, solo worker, PostgreSQL, Redis db "
          f"{urlparse(redis_url).path.lstrip('/')}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs)")
    print(f"no-op round trip: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"score one application (fresh): p50 {f50:.1f} ms, p95 {f95:.1f} ms = "
          f"{f50 / p50:.1f}x the no-op round trip (p50)")
    print(f"score replay (idempotent, nothing written): p50 {r50:.1f} ms, p95 {r95:.1f} ms = "
          f"{r50 / p50:.1f}x the no-op round trip (p50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
