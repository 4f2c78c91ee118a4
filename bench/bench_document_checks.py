"""Documents checked per second through a real Celery worker, as a ratio to the no-op task.

Both measured in this run on the same worker (`celery -A config worker --pool prefork -c 2`,
Redis broker and result backend) against PostgreSQL:
  * baseline: `core.ping` with no probe, N sent and every result fetched (broker round trip);
  * checks: `documents.document_check` for N freshly uploaded documents of the realistic mix an
    application collects (bank statement CSV in the Chinese layout, statement xlsx in the
    English layout, tax record CSV, site photo with EXIF GPS, PDF licence), each sent once and
    its result fetched: every check runs, its result, the photo hash and the audit events are
    written, and the document is concluded.
The uploads themselves (safety pipeline, storage) happen before timing starts.

Runs in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_documents), dropped and recreated, on Redis
database BENCH_REDIS_DB (default 3) with queues named for this run; keys it made are deleted.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = f"bench-{uuid.uuid4().hex[:10]}"
QUEUE = f"{TOKEN}.documents"


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _upload_mix(world, count: int) -> list[int]:
    """`count` documents over applications of 5 files each, checks not yet run."""
    from unittest import mock

    from apps.documents import samples
    from apps.documents.tests.conftest import FIXTURES
    from apps.documents.tests.helpers import site_photo_bytes, sited_draft, upload

    en_xlsx = (FIXTURES / "statement_en_signed.xlsx").read_bytes()
    ids: list[int] = []
    # Nothing is sent at upload: the timed phase sends each check exactly once, to our queue.
    with mock.patch("apps.documents.checking.enqueue_on_commit"):
        while len(ids) < count:
            app = sited_draft(world)
            n = len(ids)
            mix = [
                ("bank_statement", samples.statement_cn_csv(samples.transactions(seed=n)),
                 "s.csv", {}),
                ("bank_statement", en_xlsx, "s.xlsx", {}),
                ("tax_record", samples.tax_csv(seed=n), "t.csv", {}),
                ("site_photo", site_photo_bytes(n), "p.jpg",
                 {"device_lat": "31.2304", "device_lng": "121.4737"}),
                ("business_licence", samples.pdf(["Business licence",
                                                  "Valid until 2030-12-31"]), "l.pdf", {}),
            ]
            for code, data, name, extra in mix[:count - n]:
                ids.append(upload(world, app, data, type_code=code, name=name,
                                  **extra).pk)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--pings", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL",
                            "postgres://postgres@127.0.0.1:5432/credence_bench_documents")
    redis_base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    redis_url = urlparse(redis_base)._replace(
        path=f"/{os.environ.get('BENCH_REDIS_DB', '3')}").geturl()
    media = tempfile.mkdtemp(prefix="credence-bench-media-")
    _recreate_database(db_url)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": redis_url, "MEDIA_ROOT": media,
        "CELERY_RESULT_BACKEND": redis_url, "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    })
    import django

    django.setup()
    from celery.result import ResultSet
    from django.core.management import call_command
    from django.utils import translation

    call_command("migrate", verbosity=0)
    from apps.applications.tests.factories import World
    from apps.core.task_names import TaskName
    from apps.documents.models import Document
    from apps.documents.seed import seed_documents
    from config.celery import app

    with translation.override("en"):
        world = World()
    seed_documents(with_requirements=False)
    t0 = time.perf_counter()
    ids = _upload_mix(world, args.documents)
    t_upload = time.perf_counter() - t0

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", str(args.concurrency), "--queues", QUEUE, "--hostname",
         f"{TOKEN}@localhost", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)
    task_ids: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:  # ready when a ping makes the whole trip
            try:
                result = app.send_task(TaskName.CORE_PING, queue=QUEUE)
                task_ids.append(result.id)
                result.get(timeout=2)
                break
            except Exception:
                if worker.poll() is not None or time.monotonic() > deadline:
                    print("worker did not start", file=sys.stderr)
                    return 1
        t0 = time.perf_counter()
        results = [app.send_task(TaskName.CORE_PING, queue=QUEUE) for _ in range(args.pings)]
        ResultSet(results).get(timeout=120)
        t_ping = time.perf_counter() - t0
        task_ids += [r.id for r in results]

        t0 = time.perf_counter()
        results = [app.send_task(TaskName.DOCUMENT_CHECK, kwargs={"document_id": i},
                                 queue=QUEUE) for i in ids]
        states = ResultSet(results).get(timeout=600)
        t_docs = time.perf_counter() - t0
        task_ids += [r.id for r in results]
    finally:
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"*{TOKEN}*"):
            client.delete(key)
        for start in range(0, len(task_ids), 1000):
            client.delete(*[f"celery-task-meta-{t}" for t in task_ids[start:start + 1000]])

    from collections import Counter

    outcome = Counter(states)
    assert set(outcome) == {"passed"}, outcome  # the realistic mix is clean under policy
    checks = sum(Document.objects.get(pk=i).checks.count() for i in ids[:50]) / min(50, len(ids))
    ping_rate, doc_rate = args.pings / t_ping, len(ids) / t_docs
    print(f"  ({len(ids)} documents: CSV/xlsx statements, tax CSV, site photo, PDF; "
          f"{checks:.1f} checks each on average; uploads took {t_upload:.1f} s untimed; "
          f"prefork -c {args.concurrency}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")
    print(f"document checks: {doc_rate:,.1f} documents/s through the worker, "
          f"{doc_rate / ping_rate:.3f}x the no-op task rate ({ping_rate:,.0f} tasks/s); "
          f"{1000 / doc_rate:.1f} ms per document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
