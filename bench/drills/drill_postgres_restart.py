"""Fault drill: PostgreSQL restarts (fast shutdown, then start) under mixed load.

A private cluster is made with the machine's PostgreSQL binaries (`initdb` on a port of its
own, as the `postgres` user; the shared server on 5432 is never touched). Clients upload
documents and ask for scores ("score now"), each with an Idempotency-Key, retrying on a 5xx
or a refused connection with the same key. Pass: every command answered success in the end,
one effect each (documents = uploads, score.requested events = score commands), every file
with its row and every row with its file, every document checked and the outbox empty within
10 minutes, every error answer JSON. Prints the 5xx rate during the restart and the recovery
time; exits 1 otherwise.

    python bench/drills/drill_postgres_restart.py [--uploads 120] [--scores 60]
"""

from __future__ import annotations

import argparse
import glob
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import System, document_figures, free_port, is_json, wait_until


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit(f"no PostgreSQL {name} on this machine")
    return found[-1]


class PrivateCluster:
    """A throw-away PostgreSQL cluster owned by the `postgres` user, on its own port."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="credence-drill-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                       stdout=subprocess.DEVNULL)

    def _ctl(self, *argv: str) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-l",
                          str(self.dir / "server.log"), *argv)

    def start(self) -> None:
        if not self.data.exists():
            self._as_postgres(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust",
                              "-U", "postgres", "--no-sync")
        self._ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=on", "start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1")

    def stop(self) -> None:
        try:
            self._ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/credence_drill"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=120)
    parser.add_argument("--scores", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    cluster = PrivateCluster()
    cluster.start()
    system = System("postgres_restart", db_url=cluster.url)
    try:
        system.start()
        import requests
        from django.db import connections
        from django.utils import translation

        from apps.applications.tests.factories import World
        from apps.audit.models import AuditEvent
        from apps.documents import samples
        from apps.documents.seed import seed_documents
        from apps.documents.tests.helpers import sited_draft

        with translation.override("en"):
            world = World()
            investigated = [world.in_state("investigating").pk for _ in range(5)]
        seed_documents(with_requirements=False)
        drafts = [sited_draft(world).pk for _ in range(10)]
        am, reviewer = system.token("am.north"), system.token("reviewer.north")
        requested_before = AuditEvent.objects.filter(action="score.requested").count()
        connections.close_all()
        log: list[tuple[float, int, bool]] = []
        lock = threading.Lock()
        restart: dict[str, float] = {}

        def command(kind: str, i: int) -> bool:
            if kind == "upload":
                url = f"{system.base_url}/api/v1/applications/{drafts[i % 10]}/documents/"
                token, extra = am, {
                    "data": {"document_type": "bank_statement"},
                    "files": {"file": (f"s{i}.csv", samples.statement_cn_csv(
                        samples.transactions(seed=i, months=3)), "text/csv")}}
            else:
                url = f"{system.base_url}/api/v1/applications/{investigated[i % 5]}/score-now/"
                token, extra = reviewer, {}
            headers = {"Authorization": f"Token {token}", "Idempotency-Key": f"pg-{kind}-{i}"}
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    r = requests.post(url, headers=headers, timeout=60, **extra)
                except requests.RequestException:
                    with lock:
                        log.append((time.monotonic(), 0, True))
                    time.sleep(0.5)
                    continue
                with lock:
                    log.append((time.monotonic(), r.status_code,
                                r.status_code < 400 or is_json(r)))
                if r.status_code in (201, 202):
                    return True
                if r.status_code == 409 or r.status_code >= 500:
                    time.sleep(0.5)
                    continue
                print(f"{kind} {i}: {r.status_code} {r.text[:200]}", file=sys.stderr)
                return False
            return False

        def break_database():
            while len(log) < (args.uploads + args.scores) // 4:
                time.sleep(0.05)
            restart["stop"] = time.monotonic()
            cluster.restart()
            restart["start"] = time.monotonic()

        breaker = threading.Thread(target=break_database)
        breaker.start()
        work = ([("upload", i) for i in range(args.uploads)]
                + [("score", i) for i in range(args.scores)])
        work.sort(key=lambda w: w[1])  # interleaved: mixed load
        t0 = time.monotonic()
        with ThreadPoolExecutor(args.clients) as pool:
            ok = list(pool.map(lambda w: command(*w), work))
        load_seconds = time.monotonic() - t0
        breaker.join()
        connections.close_all()  # our own connection died with the server

        def settled():
            connections.close_all()
            figures = document_figures()
            return figures["undecided"] == 0 and figures["outbox_unsent"] == 0

        recovery = None
        if wait_until(settled, timeout=600, every=3) is not None:
            recovery = time.monotonic() - restart["start"]
        figures = document_figures()
        requested = (AuditEvent.objects.filter(action="score.requested").count()
                     - requested_before)
        during = [e for e in log if restart["stop"] <= e[0] <= restart["start"] + 2]
        server_errors = sum(1 for e in during if e[1] >= 500)
        refused = sum(1 for e in during if e[1] == 0)
        non_json = sum(1 for e in log if not e[2])
        print(f"postgres restart drill: {args.uploads} uploads + {args.scores} score-now by "
              f"{args.clients} clients in {load_seconds:.1f} s; restart took "
              f"{restart['start'] - restart['stop']:.1f} s")
        print(f"  answers during the restart (+2 s): {len(during)} ({server_errors} 5xx = "
              f"{server_errors / max(1, len(during)):.1%}, {refused} refused); non-JSON "
              f"errors overall: {non_json}")
        print(f"  commands answered success: {sum(ok)}/{len(work)}; score.requested "
              f"events {requested}/{args.scores}; figures: {figures}")
        print("  recovery (server back -> every document checked, outbox empty): "
              + (f"{recovery:.0f} s" if recovery is not None else "NOT within 10 min"))
        lost = (sum(ok) != len(work) or figures["documents"] != args.uploads
                or figures["distinct_contents"] != args.uploads
                or figures["rows_without_file"] or figures["files_without_row"]
                or figures["undecided"] or figures["outbox_unsent"]
                or requested != args.scores or non_json or recovery is None)
        print("RESULT:", "FAIL (loss, duplicate, stuck work or non-JSON error)" if lost
              else "PASS")
        return 1 if lost else 0
    finally:
        try:
            system.stop()
        finally:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
