"""Celery tasks of the documents app: ids in, one service call (CONVENTIONS §4)."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from apps.core.task_names import TaskName
from apps.documents.checks import TransientCheckError

# Time limits: a check reads one file of at most the largest upload; minutes would mean a
# pathological file. The check's lease (hard limit + 30 s) and the sweeper's stuck limit
# (5 min) stay above the hard limit, and the broker's visibility timeout above all of them.
SOFT_LIMIT = getattr(settings, "DOCUMENTS_CHECK_SOFT_TIME_LIMIT", 120)
HARD_LIMIT = getattr(settings, "DOCUMENTS_CHECK_TIME_LIMIT", 150)


@shared_task(name=TaskName.DOCUMENT_CHECK, bind=True, acks_late=True,
             reject_on_worker_lost=True,
             autoretry_for=(TransientCheckError, OperationalError), retry_backoff=True,
             retry_backoff_max=300, retry_jitter=True, max_retries=5,
             soft_time_limit=SOFT_LIMIT, time_limit=HARD_LIMIT)
def document_check(self, document_id: int) -> str | None:
    """Run a document's pending checks and conclude it. Idempotent: results are unique per
    (document, check kind) and recorded under a row lock, so a redelivery stores nothing
    twice; a decided document is left alone. A check another run may still hold is retried
    once its lease ends and resumed if that run died (the sweeper is the backstop)."""
    from apps.documents import checking

    try:
        document = checking.document_check(document_id=document_id)
    except checking.ChecksBusy as busy:
        raise self.retry(countdown=busy.countdown, max_retries=8) from None
    return document.state if document is not None else None


@shared_task(name=TaskName.DOCUMENT_CHECK_SWEEP)
def document_check_sweep() -> dict:
    """Every few minutes: re-queue checks stuck past the limit (brokers lose work, workers
    die); give up, with the reason on the document, after the attempt limit."""
    from apps.documents import checking

    return checking.document_check_sweep()


@shared_task(name=TaskName.DOCUMENT_EXPIRY_REMIND)
def document_expiry_remind() -> int:
    """Daily: remind account managers of documents expiring within the policy window or
    expired, once per document and window."""
    from apps.documents import reminders

    return reminders.document_expiry_remind()


@shared_task(name=TaskName.DOCUMENT_ORPHANS_SWEEP)
def document_orphans_sweep() -> dict:
    """Daily: delete stored files no Document row names, past the grace period (uploads
    whose transaction never committed). Never a file with a row. Idempotent."""
    from apps.documents import orphans

    return orphans.document_orphans_sweep()
