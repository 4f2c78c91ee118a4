import logging

from celery import shared_task

from apps.core.task_names import TaskName

logger = logging.getLogger(__name__)


@shared_task(name=TaskName.AUDIT_CHAIN_VERIFY)
def audit_chain_verify() -> dict:
    """Nightly: verify the whole chain and record the outcome.

    A broken chain raises the alert three ways: an error in the log (for monitoring), an
    `audit.chain_alert` event naming the first bad link, and the banner auditors and admins
    see on every page until a later run verifies clean (`apps.audit.selectors`). Read-only
    apart from its own events, so running it twice is harmless.
    """
    from django.db import transaction

    from apps.audit.services import audit_chain_verify as verify
    from apps.audit.services import audit_record

    report = verify()
    if not report.ok:
        logger.error("Audit chain broken at event %s: %s", report.bad_seq, report.problem)
    with transaction.atomic():
        if not report.ok:
            audit_record(action="audit.chain_alert", actor=None,
                         subject=("audit.chain", str(report.bad_seq)),
                         payload={"bad_seq": report.bad_seq, "problem": report.problem,
                                  "checked": report.checked})
        audit_record(action="audit.chain_verified", actor=None, subject=("audit.chain", "head"),
                     payload={"ok": report.ok, "checked": report.checked,
                              "bad_seq": report.bad_seq, "problem": report.problem,
                              "head_seq": report.last_seq, "head_hash": report.head_hash})
    return {"ok": report.ok, "checked": report.checked, "bad_seq": report.bad_seq}
