import logging

from celery import shared_task

from apps.core.task_names import TaskName

logger = logging.getLogger(__name__)


@shared_task(name=TaskName.AUDIT_CHAIN_VERIFY)
def audit_chain_verify() -> dict:
    """Nightly: verify the whole chain and record the outcome; a broken chain logs an error.

    Read-only apart from its own event, so running it twice is harmless.
    """
    from django.db import transaction

    from apps.audit.services import audit_chain_verify as verify
    from apps.audit.services import audit_record

    report = verify()
    if not report.ok:
        logger.error("Audit chain broken at event %s: %s", report.bad_seq, report.problem)
    with transaction.atomic():
        audit_record(action="audit.chain_verified", actor=None, subject=("audit.chain", "head"),
                     payload={"ok": report.ok, "checked": report.checked,
                              "bad_seq": report.bad_seq, "problem": report.problem,
                              "head_seq": report.last_seq, "head_hash": report.head_hash})
    return {"ok": report.ok, "checked": report.checked, "bad_seq": report.bad_seq}
