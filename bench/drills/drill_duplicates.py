"""Fault drill: 20 clients send the same command at the same instant with one Idempotency-Key.

Twice: an upload (multipart) and a "score now". Pass: exactly one effect each (one document,
one `document.uploaded` event; one `score.requested` event, one outbox message), every answer
either the first outcome (201/202, replays marked `Idempotent-Replayed`) or 409 "still in
flight", no 5xx, every error JSON. Exits 1 otherwise.

    python bench/drills/drill_duplicates.py [--clients 20]
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter

from harness import System, document_figures, is_json


def _fire(clients: int, send) -> list:
    barrier, answers, lock = threading.Barrier(clients), [], threading.Lock()

    def one():
        barrier.wait()
        try:
            response = send()
        except Exception as exc:  # noqa: BLE001 - counted as a failure
            response = exc
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def _summary(answers) -> tuple[Counter, int, int]:
    statuses = Counter(getattr(a, "status_code", "error") for a in answers)
    non_json = sum(1 for a in answers if hasattr(a, "status_code") and a.status_code >= 400
                   and not is_json(a))
    bad = sum(n for s, n in statuses.items() if s == "error" or s >= 500
              or s not in (201, 202, 409))
    return statuses, non_json, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    system = System("duplicates")
    try:
        system.start()
        import requests
        from django.utils import translation

        from apps.applications.tests.factories import World
        from apps.audit.models import AuditEvent
        from apps.core.models import OutboxMessage
        from apps.documents import samples
        from apps.documents.seed import seed_documents
        from apps.documents.tests.helpers import sited_draft

        with translation.override("en"):
            world = World()
            investigated = world.in_state("investigating")
        seed_documents(with_requirements=False)
        draft = sited_draft(world)
        body = samples.statement_cn_csv(samples.transactions(seed=7, months=3))
        am, reviewer = system.token("am.north"), system.token("reviewer.north")

        uploads = _fire(args.clients, lambda: requests.post(
            f"{system.base_url}/api/v1/applications/{draft.pk}/documents/", timeout=60,
            headers={"Authorization": f"Token {am}", "Idempotency-Key": "dup-upload"},
            data={"document_type": "bank_statement"},
            files={"file": ("s.csv", body, "text/csv")}))
        requested_before = OutboxMessage.objects.filter(kwargs__trigger="on_demand").count()
        scores = _fire(args.clients, lambda: requests.post(
            f"{system.base_url}/api/v1/applications/{investigated.pk}/score-now/", timeout=60,
            headers={"Authorization": f"Token {reviewer}", "Idempotency-Key": "dup-score"}))

        up_status, up_non_json, up_bad = _summary(uploads)
        sc_status, sc_non_json, sc_bad = _summary(scores)
        figures = document_figures()
        uploaded_events = AuditEvent.objects.filter(action="document.uploaded").count()
        requested_events = AuditEvent.objects.filter(action="score.requested").count()
        score_messages = (OutboxMessage.objects.filter(kwargs__trigger="on_demand").count()
                          - requested_before)
        print(f"duplicate commands drill: {args.clients} concurrent clients, one key each")
        print(f"  upload answers {dict(up_status)}; documents {figures['documents']}, "
              f"document.uploaded events {uploaded_events}, files without row "
              f"{figures['files_without_row']}")
        print(f"  score-now answers {dict(sc_status)}; score.requested events "
              f"{requested_events}, outbox messages {score_messages}")
        print(f"  non-JSON errors {up_non_json + sc_non_json}; 5xx or unexpected "
              f"{up_bad + sc_bad}")
        failed = (figures["documents"] != 1 or uploaded_events != 1
                  or figures["files_without_row"] or requested_events != 1
                  or score_messages != 1 or up_bad or sc_bad or up_non_json or sc_non_json
                  or not up_status.get(201) or not sc_status.get(202))
        print("RESULT:", "FAIL (duplicated or lost effect)" if failed else "PASS")
        return 1 if failed else 0
    finally:
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
