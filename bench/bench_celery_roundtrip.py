"""Baseline: the no-op `core.ping` task through Redis and a real prefork worker, and back.

Three numbers, all from this run:
  * enqueue-only: the producer's send rate into a queue no worker reads (the in-run baseline);
  * end-to-end: N tasks sent, executed by `celery -A config worker --pool prefork -c 2`, and
    every result fetched back from the Redis result backend;
  * single round trip: send one task, wait for its result; p50 / p95 over --samples sends.

Needs REDIS_URL (default redis://127.0.0.1:6379). Uses its own broker and result databases
(13 and 14 by default) and a queue named for this run, so it neither sees nor disturbs other
work; it starts and stops its own worker and deletes every key it created.
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
TOKEN = f"bench-{uuid.uuid4().hex[:10]}"  # in every queue and hostname of this run
QUEUE = f"{TOKEN}.roundtrip"
SINK = f"{TOKEN}.sink"  # enqueue-only target: no worker consumes it
HOSTNAME = f"{TOKEN}@localhost"


def _redis_db_url(base: str, db: int) -> str:
    return urlparse(base)._replace(path=f"/{db}").geturl()


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per throughput phase")
    parser.add_argument("--samples", type=int, default=500, help="single round trips timed")
    parser.add_argument("--concurrency", type=int, default=2, help="worker prefork processes")
    parser.add_argument("--broker-db", type=int, default=13)
    parser.add_argument("--result-db", type=int, default=14)
    return parser.parse_args()


def _configure_env(args: argparse.Namespace) -> dict:
    """The same Celery settings for this process and the worker, set before Django loads."""
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    env = {
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                 "config.settings.local"),
        "DJANGO_DEBUG": "false",  # DEBUG's bookkeeping is not what a bank runs
        "CELERY_BROKER_URL": _redis_db_url(redis_url, args.broker_db),
        "CELERY_RESULT_BACKEND": _redis_db_url(redis_url, args.result_db),
        "OMP_NUM_THREADS": "1",  # CONVENTIONS §4: every worker, or 2 cores are oversubscribed
        "LOG_LEVEL": "WARNING",
        # Benchmarks run as root in containers and CI; the warning is noise in the report.
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    }
    os.environ.update(env)
    return env


def _start_worker(concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "--queues", QUEUE, "--hostname", HOSTNAME,
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True,
    )


def _stop_worker(proc: subprocess.Popen) -> None:
    # SIGTERM: warm shutdown stops the pool children too; kill the group only if it hangs.
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _cleanup(broker_url: str, result_url: str, task_ids: list[str]) -> None:
    import redis

    broker = redis.Redis.from_url(broker_url)
    for key in broker.scan_iter(match=f"*{TOKEN}*"):  # our queues and pidbox queue
        broker.delete(key)
    # kombu's routing tables (sets of "routing_key\x06\x16pattern\x06\x16queue" per exchange):
    # drop our queues' members, and the tables and expiry deadlines that only we had.
    for key in broker.scan_iter(match="_kombu.*", _type="set"):
        ours = [m for m in broker.smembers(key) if TOKEN.encode() in m]
        if ours:
            broker.srem(key, *ours)
    deadlines = "_kombu.binding_deadlines"
    for exchange in broker.zrange(deadlines, 0, -1):
        if not broker.exists(b"_kombu.binding." + exchange):
            broker.zrem(deadlines, exchange)
    results = redis.Redis.from_url(result_url)
    for start in range(0, len(task_ids), 1000):
        chunk = task_ids[start:start + 1000]
        results.delete(*[f"celery-task-meta-{task_id}" for task_id in chunk])


def main() -> int:
    args = _parse_args()
    env = _configure_env(args)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from celery.result import ResultSet

    from apps.core.tasks import ping

    task_ids: list[str] = []
    worker = _start_worker(args.concurrency)
    try:
        # Ready when a task makes the whole trip; also warms connections on both sides.
        deadline = time.monotonic() + 60
        while True:
            try:
                result = ping.apply_async(queue=QUEUE)
                task_ids.append(result.id)
                assert result.get(timeout=2) == "pong"
                break
            except Exception:
                if worker.poll() is not None or time.monotonic() > deadline:
                    print(f"worker did not start (exit code {worker.poll()})", file=sys.stderr)
                    return 1
        for _ in range(50):
            result = ping.apply_async(queue=QUEUE)
            task_ids.append(result.id)
            result.get(timeout=5)

        # Baseline: what the producer alone can send (no result bookkeeping, nobody consuming).
        t0 = time.perf_counter()
        for _ in range(args.tasks):
            ping.apply_async(queue=SINK, ignore_result=True)
        t_enqueue = time.perf_counter() - t0

        t0 = time.perf_counter()
        results = [ping.apply_async(queue=QUEUE) for _ in range(args.tasks)]
        task_ids.extend(r.id for r in results)
        values = ResultSet(results).get(timeout=max(60.0, args.tasks / 50))
        t_end_to_end = time.perf_counter() - t0
        assert values == ["pong"] * args.tasks, "a task did not return pong"

        latencies = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            result = ping.apply_async(queue=QUEUE)
            result.get(timeout=5)
            latencies.append(time.perf_counter() - t0)
            task_ids.append(result.id)
    finally:
        _stop_worker(worker)
        _cleanup(env["CELERY_BROKER_URL"], env["CELERY_RESULT_BACKEND"], task_ids)

    enqueue_rate = args.tasks / t_enqueue
    end_to_end_rate = args.tasks / t_end_to_end
    cuts = statistics.quantiles(latencies, n=100)
    p50_ms, p95_ms = cuts[49] * 1000, cuts[94] * 1000
    print(f"  ({args.tasks:,} tasks per phase, {args.samples} single round trips, prefork "
          f"-c {args.concurrency}, broker {urlparse(env['CELERY_BROKER_URL']).path}, "
          f"results {urlparse(env['CELERY_RESULT_BACKEND']).path}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"celery no-op round trip: {end_to_end_rate:,.0f} tasks/s end-to-end, "
          f"{end_to_end_rate / enqueue_rate:.2f}x of enqueue-only rate ({enqueue_rate:,.0f}/s); "
          f"single round trip p50 {p50_ms:.1f} ms, p95 {p95_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
