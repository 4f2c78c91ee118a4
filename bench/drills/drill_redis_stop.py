"""Fault drill: the broker (Redis) stops for 15 s while clients upload 200 documents.

Clients send each upload with an Idempotency-Key and retry on a 5xx or a refused connection
with the same key, as the phone app does. Pass: every upload answered 2xx, 200 documents (no
duplicate), every row's file on disk, no file without a row, every document checked and the
outbox empty within 10 minutes of the restart, every error answer JSON. Prints the 5xx rate
during the outage and the recovery time; exits 1 on any loss.

    python bench/drills/drill_redis_stop.py [--uploads 200] [--outage 15]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import System, document_figures, is_json, run_sweeps, wait_until


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--outage", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    system = System("redis_stop")
    try:
        system.start()
        import requests
        from django.utils import translation

        from apps.applications.tests.factories import World
        from apps.documents import samples
        from apps.documents.seed import seed_documents
        from apps.documents.tests.helpers import sited_draft

        with translation.override("en"):
            world = World()
        seed_documents(with_requirements=False)
        applications = [sited_draft(world).pk for _ in range(10)]
        token = system.token("am.north")
        bodies = [samples.statement_cn_csv(samples.transactions(seed=i, months=3))
                  for i in range(args.uploads)]
        log: list[tuple[float, int, bool]] = []  # (time, status or 0 = refused, json?)
        lock = threading.Lock()
        outage: dict[str, float] = {}

        def upload(i: int) -> bool:
            url = (f"{system.base_url}/api/v1/applications/"
                   f"{applications[i % len(applications)]}/documents/")
            headers = {"Authorization": f"Token {token}", "Idempotency-Key": f"drill-up-{i}"}
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    r = requests.post(url, headers=headers, timeout=60,
                                      data={"document_type": "bank_statement"},
                                      files={"file": (f"s{i}.csv", bodies[i], "text/csv")})
                except requests.RequestException:
                    with lock:
                        log.append((time.monotonic(), 0, True))
                    time.sleep(0.5)
                    continue
                with lock:
                    log.append((time.monotonic(), r.status_code,
                                r.status_code < 400 or is_json(r)))
                if r.status_code == 201:
                    return True
                if r.status_code == 409 or r.status_code >= 500:
                    time.sleep(0.5)
                    continue
                print(f"upload {i}: {r.status_code} {r.text[:200]}", file=sys.stderr)
                return False
            return False

        def break_broker():
            while len(log) < args.uploads // 4:
                time.sleep(0.05)
            outage["stop"] = time.monotonic()
            system.kill("redis", signal.SIGTERM)
            time.sleep(args.outage)
            system.start_redis()
            outage["start"] = time.monotonic()

        breaker = threading.Thread(target=break_broker)
        breaker.start()
        t0 = time.monotonic()
        with ThreadPoolExecutor(args.clients) as pool:
            ok = list(pool.map(upload, range(args.uploads)))
        upload_seconds = time.monotonic() - t0
        breaker.join()

        def settled():
            figures = document_figures()
            return figures["undecided"] == 0 and figures["outbox_unsent"] == 0

        recovery = None
        if wait_until(settled, timeout=600, every=2) is None:
            run_sweeps()  # what beat would have done by then: the owners of stuck work
            wait_until(settled, timeout=60, every=2)
        if settled():
            recovery = time.monotonic() - outage["start"]
        figures = document_figures()
        during = [e for e in log if outage["stop"] <= e[0] <= outage["start"] + 2]
        server_errors = sum(1 for e in during if e[1] >= 500)
        refused = sum(1 for e in during if e[1] == 0)
        non_json = sum(1 for e in log if not e[2])
        print(f"redis stop drill: {args.uploads} uploads by {args.clients} clients in "
              f"{upload_seconds:.1f} s; broker down {args.outage:.0f} s")
        print(f"  answers during the outage: {len(during)} ({server_errors} 5xx = "
              f"{server_errors / max(1, len(during)):.1%}, {refused} refused connections); "
              f"non-JSON errors overall: {non_json}")
        print(f"  uploads answered 201: {sum(ok)}/{args.uploads}; figures: {figures}")
        print("  recovery (broker back -> every document checked, outbox empty): "
              + (f"{recovery:.0f} s" if recovery is not None else "NOT within 11 min"))
        lost = (sum(ok) != args.uploads or figures["documents"] != args.uploads
                or figures["distinct_contents"] != args.uploads
                or figures["rows_without_file"] or figures["files_without_row"]
                or figures["undecided"] or figures["outbox_unsent"] or non_json
                or recovery is None)
        print("RESULT:", "FAIL (loss, duplicate or stuck work)" if lost else "PASS")
        return 1 if lost else 0
    finally:
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
