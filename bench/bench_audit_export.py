"""Streaming CSV export of 1,000,000 audit events, as a ratio to PostgreSQL's own
`COPY (same query) TO STDOUT` in the same run (target: within 3x, CONVENTIONS §8), and the
exporter's memory (target: flat, about the same for 100k and 1M rows).

  * baseline: the exporter's SELECT (same columns, joins, filter and order) run through
    `COPY … TO STDOUT (FORMAT csv)` and read to the end by psycopg;
  * exporter: `apps.oversight.exports.stream_csv` consumed as the HTTP response would be
    (chunks of text, counted and dropped): formula escaping, manifest digest, trailer.

Peak memory is the process's resident set sampled every 20 ms during the export, minus the
resident set just before it, and (in separate, untimed runs) tracemalloc's peak of Python
allocations. Events are synthetic, generated inside PostgreSQL (this
measures the export, not audit_record). PostgreSQL, in a database of its own
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/credence_bench_audit_export),
dropped and recreated.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("credence_bench"):
        raise SystemExit(f"refusing to drop {name!r}: bench databases are credence_bench_*")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Resident-set growth over a block, sampled by a thread every 20 ms."""

    def __enter__(self):
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def grown_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def _seed(rows: int, actor_ids: list[int]) -> None:
    """`rows` events generated inside PostgreSQL (INSERT … SELECT generate_series: no client
    round trip per row, ~10x faster than streaming them in with COPY on this machine), with
    realistic payloads and one formula-looking subject in a thousand."""
    from django.db import connection

    actors = "ARRAY[" + ",".join(str(int(a)) for a in actor_ids) + "]::bigint[]"
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO audit_auditevent (seq, occurred_at, action, actor_id, subject_type,
                subject_id, branch_id, application_id, enterprise_id, payload, request_id,
                prev_hash, hash)
            SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
                'application.updated', ({actors})[1 + g %% {len(actor_ids)}],
                'applications.application',
                CASE WHEN g %% 1000 = 0 THEN '=cmd|' || g ELSE (g %% 50000 + 1)::text END,
                g %% 4 + 1, g %% 50000 + 1, (g %% 50000 + 1) / 3 + 1,
                jsonb_build_object('from', 'submitted', 'to', 'investigating',
                                   'comment', 'Site visit ' || g || ' consistent with figures',
                                   'reference', 'CR2601' || lpad(to_hex(g %% 50000 + 1), 6, '0')),
                ('00000000-0000-0000-0000-' || lpad(to_hex(g), 12, '0'))::uuid,
                CASE WHEN g = 1 THEN repeat('0', 64)
                     ELSE encode(sha256((g - 1)::text::bytea), 'hex') END,
                encode(sha256(g::text::bytea), 'hex')
            FROM generate_series(1, %s) AS g""", [rows])
        cursor.execute("ANALYZE audit_auditevent")


def _exporter_queryset(auditor, head: int):
    """The exporter's own query, built as `iter_rows` builds it, for COPY to run the same."""
    from django.db.models import F, TextField
    from django.db.models.functions import Cast

    from apps.oversight.exports import _UtcText
    from apps.oversight.selectors import audit_event_list

    return (audit_event_list(viewer=auditor, filters={"max_seq": head})
            .annotate(_at=_UtcText(F("occurred_at")), _payload=Cast("payload", TextField()))
            .values_list("seq", "_at", "action", "actor_id", "actor__username",
                         "subject_type", "subject_id", "application_id", "enterprise_id",
                         "branch_id", "request_id", "_payload", "prev_hash", "hash"))


def _copy_baseline(queryset) -> tuple[float, int]:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    t0, size = time.perf_counter(), 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        inlined = raw.mogrify(sql, params)
        with raw.copy(f"COPY ({inlined}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                size += len(block)
    return time.perf_counter() - t0, size


def _export(auditor, head: int):
    """One export pinned to `head`, consumed like a response body: (s, bytes, manifest, rss)."""
    from apps.oversight.exports import begin_export, stream_csv

    pinned, manifest = begin_export(viewer=auditor, filters={})
    pinned["max_seq"] = head
    with PeakRss() as memory:
        t0, size = time.perf_counter(), 0
        for piece in stream_csv(viewer=auditor, filters=pinned, manifest=manifest):
            size += len(piece)
        elapsed = time.perf_counter() - t0
    return elapsed, size, manifest, memory


def _traced_peak_mb(auditor, head: int) -> float:
    """Peak of Python allocations during one export (tracemalloc), in MB."""
    import tracemalloc

    tracemalloc.start()
    try:
        _export(auditor, head)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_audit_export")
    _recreate_database(url)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": "memory://",
                       "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from apps.accounts.models import User
    from apps.audit.models import AuditEvent
    from apps.demo.seed import seed_demo

    seed_demo()
    auditor = User.objects.get(username="auditor.north")
    # The seed wrote a few real events; the bench owns this fresh database and numbers its
    # synthetic events from 1 (TRUNCATE is allowed only with the test/bench session setting).
    with connection.cursor() as cursor:
        cursor.execute("SET credence.audit_truncate_allowed = on")
        cursor.execute("TRUNCATE audit_auditevent")
    actors = list(User.objects.values_list("pk", flat=True))
    t0 = time.perf_counter()
    _seed(args.rows, actors)
    print(f"  (generated {args.rows:,} synthetic events in {time.perf_counter() - t0:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    assert AuditEvent.objects.count() == args.rows

    queryset = _exporter_queryset(auditor, args.rows)
    _copy_baseline(queryset)  # warm the cache for both contenders
    t_copy, copy_bytes = _copy_baseline(queryset)
    t_export, export_bytes, manifest, memory = _export(auditor, args.rows)
    assert manifest.count == args.rows, manifest.count
    small = max(args.rows // 10, 1)
    _t, _b, part, memory_part = _export(auditor, small)
    assert part.count == small, part.count

    traced_small, traced_full = _traced_peak_mb(auditor, small), _traced_peak_mb(auditor,
                                                                                 args.rows)
    print(f"COPY (same query) TO STDOUT: {t_copy:.2f} s, {args.rows / t_copy:,.0f} rows/s, "
          f"{copy_bytes / 2**20:,.0f} MB")
    print(f"audit export (stream_csv): {t_export:.2f} s, {args.rows / t_export:,.0f} rows/s, "
          f"{export_bytes / 2**20:,.0f} MB = {t_export / t_copy:.2f}x COPY in this run "
          f"(aim <= 3x)")
    print(f"exporter peak memory growth: {memory_part.grown_mb:.1f} MB for {small:,} rows, "
          f"{memory.grown_mb:.1f} MB for {args.rows:,} rows (flat = about the same); "
          f"Python allocations peak (tracemalloc) {traced_small:.1f} MB / {traced_full:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
