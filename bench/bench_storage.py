"""Storing and reading back evidence through the storage API: object storage as a ratio to the
local disk in the same run.

For `--files` (200) files of `--size` bytes (the 6 KB statement CSV by default; `--size
1048576` for a 1 MB scan), through the same code the upload and the checks use
(apps.core.storage): `staged_save` (the upload's store step) and `local_copy` (a worker's
private copy, read through storage.open()/chunks):
  * baseline: FileSystemStorage on this host's disk;
  * object storage: S3Storage (django-storages, boto3) on an S3-compatible server started on the
    loopback (moto's standalone server, as the test suite does), or on `--endpoint` (a MinIO,
    say) with S3_* credentials from the environment.

moto keeps objects in memory and is not MinIO: the figure is the client-side cost of going
through the S3 API (HTTP, signing, a HEAD before each save as file_overwrite is off), not a
MinIO or AWS latency. Needs no database.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STATEMENT = ROOT / "apps/documents/tests/fixtures/statement_cn_debit_credit.csv"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size", type=int, default=0, help="bytes; 0: the statement fixture")
    parser.add_argument("--endpoint", default="", help="an S3 endpoint instead of moto")
    return parser.parse_args()


def _p(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def _run(storage, source: Path, files: int) -> dict[str, tuple[float, float]]:
    from apps.core.storage import local_copy, staged_save

    saves, reads = [], []
    prefix = f"bench/{uuid.uuid4().hex[:8]}"
    for i in range(files + 5):
        work = Path(tempfile.mkdtemp())
        staged = work / "f.csv"
        shutil.copyfile(source, staged)  # the upload's staging copy (rename consumes it)
        t0 = time.perf_counter()
        name = staged_save(f"{prefix}/{i}.csv", staged, storage=storage)
        t1 = time.perf_counter()
        with local_copy(name, storage=storage) as path:
            assert path.stat().st_size == source.stat().st_size
        t2 = time.perf_counter()
        shutil.rmtree(work, ignore_errors=True)
        if i >= 5:  # warm-up: connections, imports
            saves.append(t1 - t0)
            reads.append(t2 - t1)
    return {"save": _p(saves), "read": _p(reads)}


def main() -> int:
    args = _args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.files.storage import FileSystemStorage
    from storages.backends.s3 import S3Storage

    from apps.core.tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, _free_port, s3_options

    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    source = STATEMENT
    if args.size:
        source = work / "blob.bin"
        source.write_bytes(os.urandom(args.size))
    proc = None
    endpoint = args.endpoint
    try:
        if not endpoint:
            port = _free_port()
            endpoint = f"http://127.0.0.1:{port}"
            proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                     "-p", str(port)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            import urllib.request

            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.1)
        bucket = os.environ.get("S3_BUCKET", f"bench-{uuid.uuid4().hex[:8]}")
        options = s3_options(endpoint, bucket)
        if args.endpoint:
            options.update(access_key=os.environ.get("S3_ACCESS_KEY_ID", ACCESS_KEY),
                           secret_key=os.environ.get("S3_SECRET_ACCESS_KEY", SECRET_KEY),
                           region_name=os.environ.get("S3_REGION", REGION))
        s3 = S3Storage(**options)
        if not args.endpoint:
            s3.connection.meta.client.create_bucket(Bucket=bucket)
        disk = FileSystemStorage(location=work / "store", file_permissions_mode=0o600,
                                 directory_permissions_mode=0o700)
        print(f"storage: {args.files} files of {source.stat().st_size:,} bytes; S3 endpoint "
              f"{'moto on the loopback' if proc else endpoint}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        base = _run(disk, source, args.files)
        obj = _run(s3, source, args.files)
        for step, label in (("save", "store (staged_save)"), ("read", "worker copy (local_copy)")):
            print(f"storage {label}: object storage p50 {obj[step][0]:.1f} ms, p95 "
                  f"{obj[step][1]:.1f} ms = {obj[step][1] / base[step][1]:.1f}x the local disk "
                  f"(p95 {base[step][1]:.2f} ms)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
