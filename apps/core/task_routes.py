"""Which Celery queue each task goes to: work someone waits for never queues behind bulk work.

Three queues, each with workers of its own in production (docker-compose.yml):
  * `interactive`: a person is waiting on the answer (the score of a file an approver opened,
    the checks of a document being filled in, the status page's probe, the notice of a step);
  * `bulk`: long or many-row work nobody watches second by second (portfolio re-scoring,
    training, exports, monitoring and DPD chunks, inspection schedules);
  * `periodic`: what beat fires (sweepers, reconcilers, the outbox relay): small, frequent, and
    the safety net, so it must not wait behind a re-score either.

A re-score of 100,000 loans fills `bulk` with chunks; an interactive worker never sees them.
Routes are by task name, so they apply to every sender (`send_task` from the outbox relay,
beat, `delay`). A task missing here would go to `bulk` (CELERY_TASK_DEFAULT_QUEUE), and
`tests/test_architecture.py` fails CI on it: every task's queue is a decision, not a default.
"""

from enum import StrEnum

from apps.core.task_names import TaskName


class Queue(StrEnum):
    INTERACTIVE = "interactive"
    BULK = "bulk"
    PERIODIC = "periodic"


DEFAULT_QUEUE = Queue.BULK

QUEUE_OF: dict[TaskName, Queue] = {
    # A person waits.
    TaskName.CORE_PING: Queue.INTERACTIVE,
    TaskName.DOCUMENT_CHECK: Queue.INTERACTIVE,
    TaskName.APPLICATION_SCORE: Queue.INTERACTIVE,
    TaskName.APPROVALS_STEP_NOTIFY: Queue.INTERACTIVE,
    # An officer waits for the registry or court answer during an investigation.
    TaskName.DATAHUB_PULL_RUN: Queue.INTERACTIVE,
    # Bulk: many rows, minutes of work, or both.
    TaskName.SCORING_RESCORE: Queue.BULK,
    TaskName.SCORING_TRAIN: Queue.BULK,
    TaskName.OVERSIGHT_EXPORT_JOB_RUN: Queue.BULK,
    TaskName.MONITORING_CLASSIFY_CHUNK: Queue.BULK,
    TaskName.MONITORING_INSPECTION_SCHEDULE: Queue.BULK,
    TaskName.MONITORING_INSPECTION_SCHEDULE_CHUNK: Queue.BULK,
    TaskName.MONITORING_INSPECTION_OVERDUE_CHUNK: Queue.BULK,
    TaskName.MONITORING_COVENANT_CHUNK: Queue.BULK,
    TaskName.LOANS_DPD_RECOMPUTE_CHUNK: Queue.BULK,
    # Scheduled refreshes of external data: many, nobody waits on one.
    TaskName.DATAHUB_REFRESH_PULL_RUN: Queue.BULK,
    # One loan each, sent by the outbox after a booking or restructuring: nobody waits on them.
    TaskName.MONITORING_COVENANT_SCHEDULE: Queue.BULK,
    TaskName.MONITORING_RESTRUCTURINGS_RECORD: Queue.BULK,
    # Beat-driven: each fires one sweep that sends its chunks to bulk.
    TaskName.AUDIT_CHAIN_VERIFY: Queue.PERIODIC,
    TaskName.CORE_IDEMPOTENCY_PURGE: Queue.PERIODIC,
    TaskName.CORE_OUTBOX_RELAY: Queue.PERIODIC,
    TaskName.DOCUMENT_CHECK_SWEEP: Queue.PERIODIC,
    TaskName.DOCUMENT_EXPIRY_REMIND: Queue.PERIODIC,
    TaskName.DOCUMENT_ORPHANS_SWEEP: Queue.PERIODIC,
    TaskName.APPROVALS_DEADLINES_SWEEP: Queue.PERIODIC,
    TaskName.SCORING_SWEEP: Queue.PERIODIC,
    TaskName.SCORING_DRIFT_CHECK: Queue.PERIODIC,
    TaskName.OVERSIGHT_EXPORT_JOBS_SWEEP: Queue.PERIODIC,
    TaskName.OVERSIGHT_EXEMPTION_CASES_SWEEP: Queue.PERIODIC,
    TaskName.LOANS_ACTIVATE_SWEEP: Queue.PERIODIC,
    TaskName.LOANS_DPD_RECOMPUTE_SWEEP: Queue.PERIODIC,
    TaskName.MONITORING_CLASSIFICATION_SWEEP: Queue.PERIODIC,
    TaskName.MONITORING_CHUNKS_RECONCILE: Queue.PERIODIC,
    TaskName.MONITORING_ACTIONS_OVERDUE: Queue.PERIODIC,
    TaskName.MONITORING_INSPECTION_SWEEP: Queue.PERIODIC,
    TaskName.MONITORING_COVENANT_SWEEP: Queue.PERIODIC,
    TaskName.DATAHUB_REFRESH_SWEEP: Queue.PERIODIC,
    TaskName.DATAHUB_CACHE_HITS_AUDIT: Queue.PERIODIC,
    TaskName.DATAHUB_PULL_SWEEP: Queue.PERIODIC,
    TaskName.INSIGHT_SUMMARIES_REFRESH: Queue.PERIODIC,
}


def celery_task_routes() -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES: plain strings, as the router matches names."""
    return {str(name): {"queue": str(queue)} for name, queue in QUEUE_OF.items()}
