"""Edited-photo reuse lookup against a store of a million photo fingerprints (issue 19).

The store: `--photos` (1,000,000) fingerprints of 6 window hashes each, every hash's four
16-bit band keys in an indexed table shaped like `documents_photobandkey` (key, value,
document) with the index `(key) INCLUDE (value, document)` — 24 million key rows, generated in
SQL (uniform random hashes) — plus `--planted` (40) real fingerprints of drawn scenes
(apps/documents/tests/photo_fakes.py). The timed lookup is the production search
(`apps.documents.photo_fingerprints.search`: one index-only query over the ~180 band keys of
a new photo's 45 query hashes, popcount verification in SQL, then the candidates'
fingerprints fetched by primary key and their agreeing window pairs counted) for each of
`--lookups` new photos: edited copies of planted photos (crop, turn, colour, JPEG, new EXIF;
must be found) and honest photos (must not be). Hashing the new photo is not timed (it
happens once at upload, in the photo check).

Baseline in the same run: one exact-hash index lookup (`SELECT … WHERE value = %s` on a
b-tree over the 6 million stored hashes). Result: p95 per new photo as a ratio to the
baseline's p95; target ≤ 50x and under 100 ms.

Runs in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_photo_reuse), dropped and recreated; the
tables are UNLOGGED (only their loading is faster; lookups read the same pages).
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


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=40)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=2000)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_photo_reuse")
    _recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("CI", "true")
    import django

    django.setup()
    import random

    from django.db import connection

    from apps.documents.checks import fingerprint as fp
    from apps.documents.checks.phash import to_signed
    from apps.documents.photo_fingerprints import search, to_json
    from apps.documents.tests.photo_fakes import edit, jpeg, reopen, scene
    from apps.investigations.controls.policies import CONTROL_POLICIES

    policy = {k: int(float(v)) for k, v, *_ in CONTROL_POLICIES if k.startswith("control.photo.fi")}
    kinds = len(fp.STORED_WINDOWS)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNLOGGED TABLE bench_hashes (document_id integer, kind smallint, "
                       "value bigint)")
        cursor.execute(
            "INSERT INTO bench_hashes SELECT d, k, (floor(random() * 4294967296)::bigint << 32)"
            " | floor(random() * 4294967296)::bigint "
            "FROM generate_series(1, %s) d, generate_series(1, %s) k", [args.photos, kinds])
        cursor.execute("CREATE UNLOGGED TABLE bench_bands (id bigserial, key integer, "
                       "value bigint, document_id_copy integer)")
        cursor.execute(
            "INSERT INTO bench_bands (key, value, document_id_copy) "
            "SELECT (b << 16) | ((value >> (48 - 16 * b)) & 65535)::integer, value, document_id "
            "FROM bench_hashes, generate_series(0, 3) b")
        cursor.execute("CREATE UNLOGGED TABLE bench_prints (document_id integer PRIMARY KEY, "
                       "application_id_copy integer, stored jsonb)")
        cursor.execute("INSERT INTO bench_prints SELECT d, d, NULL FROM generate_series(1, %s) d",
                       [args.photos])
    generated = time.perf_counter() - t0

    # Planted real fingerprints: the photos the edited copies come from.
    rnd = random.Random(19)
    planted, copies, honest = [], [], []
    for i in range(args.planted):
        original = reopen(jpeg(scene(7000 + i * 3), quality=90))
        stored = fp.stored_hashes(original)
        document_id = args.photos + 1 + i
        planted.append((document_id, stored))
        copies.append((document_id, fp.query_hashes(reopen(jpeg(
            edit(original, 7001 + i * 3), quality=rnd.randint(55, 85),
            exif_time="2026:01:01 10:00:00")))))
        honest.append(fp.query_hashes(reopen(jpeg(scene(7002 + i * 3), quality=80))))
    import json

    with connection.cursor() as cursor:
        for document_id, stored in planted:
            cursor.execute("INSERT INTO bench_prints VALUES (%s, %s, %s)",
                           [document_id, document_id, json.dumps(to_json(stored))])
            for kind, value in enumerate(stored.values()):
                cursor.execute("INSERT INTO bench_hashes VALUES (%s, %s, %s)",
                               [document_id, kind + 1, to_signed(value)])
                for key in fp.band_keys(value):
                    cursor.execute("INSERT INTO bench_bands (key, value, document_id_copy) "
                                   "VALUES (%s, %s, %s)", [key, to_signed(value), document_id])
        t1 = time.perf_counter()
        cursor.execute("CREATE INDEX bench_bands_key ON bench_bands (key) "
                       "INCLUDE (value, document_id_copy)")
        cursor.execute("CREATE INDEX bench_hashes_value ON bench_hashes (value)")
        cursor.execute("VACUUM ANALYZE bench_bands")
        cursor.execute("VACUUM ANALYZE bench_hashes")
        cursor.execute("ANALYZE bench_prints")
        indexed = time.perf_counter() - t1
        cursor.execute("SELECT count(*) FROM bench_bands")
        band_rows = cursor.fetchone()[0]
    load = os.getloadavg()[0]
    print(f"store: {args.photos + args.planted:,} photo fingerprints ({kinds} window hashes each), "
          f"{band_rows:,} band keys; generated in {generated:.1f} s, indexed in {indexed:.1f} s; "
          f"load average {load:.1f}", flush=True)

    def fingerprints(ids):
        with connection.cursor() as cursor:
            cursor.execute("SELECT document_id, application_id_copy, stored FROM bench_prints "
                           "WHERE document_id = ANY(%s) AND stored IS NOT NULL", [ids])
            return [(d, a, s if isinstance(s, dict) else json.loads(s))
                    for d, a, s in cursor.fetchall()]

    # Baseline: one exact-hash index lookup, through the same connection.
    values = [to_signed(v) for _, stored in planted for v in stored.values()]
    values += [to_signed(rnd.getrandbits(64)) for _ in range(200)]
    base = []
    with connection.cursor() as cursor:
        for i in range(args.baseline):
            start = time.perf_counter()
            cursor.execute("SELECT document_id FROM bench_hashes WHERE value = %s",
                           [values[i % len(values)]])
            cursor.fetchall()
            base.append(time.perf_counter() - start)

    # Lookups: alternate edited copies and honest photos, each timed whole.
    limits = {"candidate_distance": policy["control.photo.fingerprint_candidate_distance"],
              "max_distance": policy["control.photo.fingerprint_max_distance"],
              "min_pairs": policy["control.photo.fingerprint_min_pairs"]}
    times, found, false = [], 0, 0
    for i in range(args.lookups):
        is_copy = i % 2 == 0
        source, query = copies[(i // 2) % len(copies)] if is_copy else \
            (None, honest[(i // 2) % len(honest)])
        start = time.perf_counter()
        matches = search(query, **limits, bands="bench_bands", fingerprints=fingerprints)
        times.append(time.perf_counter() - start)
        ids = {m.other_document_id for m in matches}
        if is_copy:
            found += source in ids
        else:
            false += bool(ids)
    copies_n, honest_n = (args.lookups + 1) // 2, args.lookups // 2
    p95, base_p95 = _p95(times), _p95(base)
    ratio = p95 / base_p95
    met = ratio <= 50 and p95 < 0.1
    print(f"exact-hash index lookup: p50 {statistics.median(base) * 1000:.2f} ms, "
          f"p95 {base_p95 * 1000:.2f} ms")
    print(f"photo reuse lookup ({args.photos + args.planted:,} fingerprints, "
          f"{len(copies[0][1])} query hashes): "
          f"p50 {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms = "
          f"{ratio:.1f}x one exact-hash index lookup (p95); target <= 50x and < 100 ms: "
          f"{'met' if met else 'MISSED'}")
    print(f"(medians: {statistics.median(times) / statistics.median(base):.1f}x; the p95 of a "
          f"single index lookup on a loaded machine is mostly scheduling noise)")
    print(f"edited copies found: {found}/{copies_n}; honest photos flagged: {false}/{honest_n}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
