"""Fault drill: the worker group is killed with SIGKILL several times while data-hub pulls are
in flight (issue 21: "pulls survive a worker kill", until now proven only by simulation).

The five sources' loopback stand-ins (apps/datahub/testservers) run in this process with
`--latency` seconds on every answer, so pulls are mid-query when the kill comes. N pulls are
requested through the real request service (`apps.datahub.services.pull_request`: consent,
cache, in flight, budget, outbox) for N distinct subject/source pairs; every `--repeat-every`th
request asks again about an earlier pair (answered by the pull in flight or from the cache).
A real `celery worker --pool prefork -c 2` runs them, with the relay and beat as in
production; the whole worker group is killed (`kill -9` of its process group) `--kills` times,
each once the fresh worker has finished `--between` pulls and has one mid-query, 2 s before a
fresh one starts. Killed deliveries come back after the broker's visibility timeout
(production: 600 s; `--visibility-timeout` shortens it for a quick run).

Pass: within `--wait` seconds every pull is final (succeeded, or failed with its error code),
each paid query is charged exactly once (cost = price on a success, 0 on a failure, the
branch's spending equals the sum of the charges), nothing is left in the outbox, and each
pull has exactly one request event and one outcome event in the audit chain (a cache answer:
one `pull_answered_from_cache`). Exits 1 otherwise.

    python bench/drills/drill_pull_worker_kill.py [--pulls 200] [--latency 1.5] [--kills 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time
from collections import Counter

from harness import System, wait_until

SOURCES = ("registry", "court", "tax", "utility", "bureau")


def start_stand_ins(latency: float) -> dict:
    from apps.datahub.testservers import demo_services
    from apps.datahub.testservers.base import LoopbackServer

    servers = {}
    for name, service in demo_services().items():
        service.latency = latency
        servers[name] = LoopbackServer(service).start()
        os.environ[f"DATAHUB_{name.upper()}_URL"] = servers[name].url
    return servers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=200)
    parser.add_argument("--repeat-every", type=int, default=10)
    parser.add_argument("--latency", type=float, default=1.5)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--between", type=int, default=5,
                        help="pulls a fresh worker finishes before the next kill")
    parser.add_argument("--visibility-timeout", type=int, default=600)
    parser.add_argument("--wait", type=float, default=1200)
    args = parser.parse_args()
    servers = start_stand_ins(args.latency)
    os.environ["CELERY_VISIBILITY_TIMEOUT"] = str(args.visibility_timeout)
    system = System("pull_worker_kill")
    try:
        system.start()
        from decimal import Decimal

        from django.db import connection
        from django.db.models import Count, Q, Sum
        from django.utils import timezone

        from apps.audit.models import AuditEvent
        from apps.core.models import OutboxMessage, OutboxState
        from apps.datahub.models import Pull
        from apps.datahub.services import branch_spent, consent_record, pull_request
        from apps.datahub.states import Channel, PullState
        from apps.investigations.models import PolicyValue
        from apps.parties.tests.factories import BranchFactory, EnterpriseFactory, make_user

        # Policy data, not code: a budget the drill cannot exhaust (its price list stays).
        PolicyValue.objects.filter(key="datahub.budget.monthly").update(value=Decimal(10**6))
        branch = BranchFactory(code="drill")
        actor = make_user("drill.am", branch=branch,
                          perms=["datahub.add_pull", "datahub.add_consent"])
        enterprises = [EnterpriseFactory(branch=branch)
                       for _ in range((args.pulls + len(SOURCES) - 1) // len(SOURCES))]
        today = timezone.localdate()
        for enterprise in enterprises:
            consent_record(enterprise_id=enterprise.pk, signed_by="王立", sources=list(SOURCES),
                           purpose="pre_loan", valid_from=today,
                           valid_until=today + dt.timedelta(days=30),
                           document_reference="AUTH-DRILL", actor=actor)
        pairs = [(enterprises[i // len(SOURCES)], SOURCES[i % len(SOURCES)])
                 for i in range(args.pulls)]
        kills: list[float] = []

        def killer():
            """Each kill waits on state, not time: the fresh worker has finished a few pulls
            since it started and has one mid-query (its answer is still on the wire)."""
            for _ in range(args.kills):
                done = Pull.objects.filter(state=PullState.SUCCEEDED).count()
                mid_query = wait_until(
                    lambda done=done: Pull.objects.filter(
                        state=PullState.SUCCEEDED).count() >= done + args.between
                    and Pull.objects.filter(state=PullState.RUNNING).exists(),
                    timeout=300, every=0.2)
                running = Pull.objects.filter(state=PullState.RUNNING).count()
                system.kill("worker")  # SIGKILL to the whole group: no goodbye, no ack
                kills.append(time.monotonic())
                print(f"  kill {len(kills)} at {kills[-1] - t0:.0f} s: {running} pulls "
                      "mid-query" + ("" if mid_query is not None else " (none seen)"),
                      flush=True)
                time.sleep(2)
                system.start_worker()
            connection.close()  # this thread's own

        t0 = time.monotonic()
        thread = threading.Thread(target=killer)
        thread.start()
        asked: list[int] = []
        repeats = 0
        for i, (enterprise, source) in enumerate(pairs):
            asked.append(pull_request(enterprise_id=enterprise.pk, source=source,
                                      purpose="pre_loan", actor=actor).pk)
            if args.repeat_every and i and i % args.repeat_every == 0:
                earlier, again = pairs[i - args.repeat_every // 2]
                asked.append(pull_request(enterprise_id=earlier.pk, source=again,
                                          purpose="pre_loan", actor=actor).pk)
                repeats += 1
            time.sleep(0.05)
        produced = time.monotonic() - t0
        thread.join()

        def settled():
            open_pulls = Pull.objects.filter(state__in=[PullState.REQUESTED,
                                                        PullState.RUNNING]).count()
            unsent = OutboxMessage.objects.exclude(state=OutboxState.SENT).count()
            unaudited = Pull.objects.filter(audit_pending=True).count()
            return open_pulls == 0 and unsent == 0 and unaudited == 0

        waited = wait_until(settled, timeout=args.wait, every=5)
        after_last_kill = time.monotonic() - kills[-1] if kills else 0

        pulls = list(Pull.objects.values("pk", "channel", "state", "price", "cost",
                                         "error_code", "attempts"))
        states = Counter((p["channel"], p["state"]) for p in pulls)
        http = [p for p in pulls if p["channel"] == Channel.HTTP]
        wrong_charge = [p["pk"] for p in http if p["cost"] != (
            p["price"] if p["state"] == PullState.SUCCEEDED else 0)]
        wrong_charge += [p["pk"] for p in pulls if p["channel"] == Channel.CACHE and p["cost"]]
        charged = sum((p["cost"] for p in pulls), Decimal(0))
        spent = branch_spent(branch_id=branch.pk, now=timezone.now())
        errors = Counter(p["error_code"] for p in pulls if p["state"] == PullState.FAILED)
        events = (AuditEvent.objects.filter(subject_type="datahub.pull")
                  .values("subject_id").annotate(
                      requested=Count("id", filter=Q(action="datahub.pull_requested")),
                      outcome=Count("id", filter=Q(action__in=[
                          "datahub.pull_succeeded", "datahub.pull_failed",
                          "datahub.pull_answered_from_cache"]))))
        by_pull = {int(e["subject_id"]): e for e in events}
        audit_wrong = [p["pk"] for p in pulls if (
            by_pull.get(p["pk"], {}).get("outcome") != 1
            or by_pull.get(p["pk"], {}).get("requested")
            != (1 if p["channel"] == Channel.HTTP else 0))]
        calls = Counter()
        for server in servers.values():
            calls.update(server.service.request_ids)
        source_calls = sum(calls.values())
        asked_again = sum(1 for n in calls.values() if n > 1)
        unsent = OutboxMessage.objects.exclude(state=OutboxState.SENT).count()
        retried = Pull.objects.filter(channel=Channel.HTTP).aggregate(a=Sum("attempts"))["a"]

        print(f"pull worker kill drill: {len(asked)} pull requests ({repeats} repeats) made in "
              f"{produced:.0f} s, source latency {args.latency} s, visibility timeout "
              f"{args.visibility_timeout} s; worker group SIGKILLed {len(kills)} times")
        print(f"  pulls by channel/state: {dict(sorted(states.items()))}; failed by code: "
              f"{dict(errors)}")
        print(f"  charged {charged} CNY over {len(http)} paid pulls; branch spending "
              f"{spent} CNY; pulls charged wrongly: {len(wrong_charge)}")
        print(f"  source calls {source_calls} for {len(calls)} query ids (attempts recorded "
              f"{retried}); query ids sent again after a kill: {asked_again}")
        print(f"  outbox unsent: {unsent}; pulls whose audit events are not exactly once: "
              f"{len(audit_wrong)}")
        print("  everything final "
              + (f"{after_last_kill:.0f} s after the last kill" if waited is not None
                 else f"NOT within {args.wait:.0f} s"))
        bad = (waited is None or wrong_charge or charged != spent or unsent or audit_wrong
               or any(p["state"] not in (PullState.SUCCEEDED, PullState.FAILED)
                      for p in pulls)
               or any(p["state"] == PullState.FAILED and not p["error_code"] for p in pulls))
        if wrong_charge or audit_wrong:
            print(f"  first wrong: charge {wrong_charge[:5]}, audit {audit_wrong[:5]}")
        print("RESULT:", "FAIL (lost, stuck, double-charged or double-audited pull)" if bad
              else "PASS")
        return 1 if bad else 0
    finally:
        system.stop()
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
