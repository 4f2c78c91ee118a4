"""Fault drill: the worker group is killed with SIGKILL three times during 400 checks and
scorings.

350 documents are uploaded (each asks for its checks) and 50 investigations accepted (each
asks for a score) while a `celery worker --pool prefork -c 2` runs; the whole worker group is
killed (`kill -9` of its process group) three times, 2 s before a fresh one starts. Beat runs
the relay and the sweepers as in production. Pass: within 15 minutes every document is decided
and every accepted application scored exactly once for its acceptance, nothing left in the
outbox, no check run twice to a second result. Prints when each was reached; exits 1 otherwise.

    python bench/drills/drill_worker_kill.py [--documents 350] [--scorings 50]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from harness import System, document_figures, wait_until


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=350)
    parser.add_argument("--scorings", type=int, default=50)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--wait", type=float, default=900)
    args = parser.parse_args()
    system = System("worker_kill")
    try:
        system.start()
        from django.db.models import Count
        from django.utils import translation

        from apps.applications.tests.factories import World
        from apps.audit.models import AuditEvent
        from apps.documents import samples
        from apps.documents.models import DocumentCheck
        from apps.documents.seed import seed_documents
        from apps.documents.tests.helpers import sited_draft, upload
        from apps.scoring.models import ScoreResult

        with translation.override("en"):
            world = World()
        seed_documents(with_requirements=False)
        kills: list[float] = []

        def killer():
            for _ in range(args.kills):
                time.sleep(8)
                system.kill("worker")  # SIGKILL to the whole group: no goodbye, no ack
                kills.append(time.monotonic())
                time.sleep(2)
                system.start_worker()

        t0 = time.monotonic()
        thread = threading.Thread(target=killer)
        thread.start()
        applications = [sited_draft(world) for _ in range(max(1, args.documents // 10))]
        for i in range(args.documents):
            upload(world, applications[i % len(applications)],
                   samples.statement_cn_csv(samples.transactions(seed=i, months=3)),
                   type_code="bank_statement", name=f"s{i}.csv")
        with translation.override("en"):
            scored = [world.in_state("investigating").pk for _ in range(args.scorings)]
        produced = time.monotonic() - t0
        thread.join()

        def settled():
            figures = document_figures()
            have_score = (ScoreResult.objects.filter(application_id__in=scored)
                          .values("application_id").distinct().count())
            return (figures["undecided"] == 0 and figures["outbox_unsent"] == 0
                    and have_score == len(scored))

        waited = wait_until(settled, timeout=args.wait, every=5)
        after_last_kill = time.monotonic() - kills[-1] if kills else 0
        figures = document_figures()
        have_score = (ScoreResult.objects.filter(application_id__in=scored)
                      .values("application_id").distinct().count())
        twice = (AuditEvent.objects.filter(action="document.check_recorded")
                 .values("subject_id", "payload__check").annotate(n=Count("id"))
                 .filter(n__gt=1).count())
        scored_twice = (AuditEvent.objects.filter(action="score.computed",
                                                  subject_id__in=[str(p) for p in scored])
                        .values("subject_id", "payload__input_hash").annotate(n=Count("id"))
                        .filter(n__gt=1).count())
        errors = DocumentCheck.objects.filter(status="error").count()
        print(f"worker kill drill: {args.documents} documents + {args.scorings} scorings "
              f"produced in {produced:.0f} s; worker group SIGKILLed {len(kills)} times")
        print(f"  figures: {figures}; applications scored {have_score}/{len(scored)}")
        print(f"  results recorded twice: checks {twice}, scores {scored_twice}; checks in "
              f"error after bounded attempts: {errors}")
        print("  everything done "
              + (f"{after_last_kill:.0f} s after the last kill" if waited is not None
                 else f"NOT within {args.wait:.0f} s"))
        lost = (waited is None or figures["rows_without_file"] or figures["undecided"]
                or figures["outbox_unsent"] or have_score != len(scored) or twice
                or scored_twice)
        print("RESULT:", "FAIL (lost, duplicated or stuck work)" if lost else "PASS")
        return 1 if lost else 0
    finally:
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
