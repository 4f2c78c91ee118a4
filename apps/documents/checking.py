"""Running the document checks: the services behind the check task, the sweeper and the
re-run action (issue 5, "Checks").

Shape of one run (CONVENTIONS §4, idempotent tasks):
  1. lock the document; uploaded → checking (or no-op when it is already decided);
  2. for each pending check: lock its row, pending → running, commit; run the checker outside
     any transaction (it may take seconds); lock again and record the result, unless someone
     else already did. The row is unique per (document, kind), so a task delivered twice
     stores one result;
  3. lock the document; when every check is done, move it to passed / failed / needs attention.
A worker that dies mid-check leaves the row `running`; the sweeper re-queues it (or, past the
attempt limit, records the error so the document needs attention). The stored file is never
changed: a run reads a private copy fetched through the storage API.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.core.fsm import transition_check
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.documents import photo_reuse
from apps.documents.checks import (
    CheckContext,
    CheckOutcome,
    TransientCheckError,
    checker,
    flag,
)
from apps.documents.checks.messages import flag_text
from apps.documents.models import ColumnProfile, Document, DocumentCheck, DocumentRequirement
from apps.documents.selectors import document_get
from apps.documents.states import (
    CHECK_DONE,
    IMAGE_FORMATS,
    CheckKind,
    CheckStatus,
    DocumentState,
    RecordKind,
)

log = logging.getLogger(__name__)
K, C, S = CheckKind, CheckStatus, DocumentState

# Which checks suit which formats: a requirement may ask for any, only these can run.
_FORMAT_KINDS = {
    K.PHOTO: IMAGE_FORMATS, K.PDF: {"pdf"}, K.BANK_STATEMENT: {"csv", "xlsx", "pdf"},
    K.TAX_RECORD: {"csv", "xlsx", "pdf"}, K.UTILITY_BILL: {"csv", "xlsx", "pdf"},
    K.EXPIRY: {"pdf", "jpeg", "png", "webp", "csv", "xlsx"},
}
# Checks a type gets when no requirement names any (products without requirement rows).
_DEFAULT_BY_TYPE = {"site_photo": [K.PHOTO], "bank_statement": [K.BANK_STATEMENT],
                    "tax_record": [K.TAX_RECORD], "utility_bill": [K.UTILITY_BILL]}
_RECORD_KIND = {K.BANK_STATEMENT: RecordKind.BANK_STATEMENT, K.TAX_RECORD: RecordKind.TAX_RECORD,
                K.UTILITY_BILL: RecordKind.UTILITY_BILL}


def setting(name: str, default):
    return getattr(settings, f"DOCUMENTS_{name}", default)


def requirements_for(document: Document):
    product_id = document.application.product_version.product_id
    return DocumentRequirement.objects.filter(product_id=product_id, is_active=True,
                                              document_type_id=document.document_type_id)


def check_kinds(document: Document, requirements=None) -> list[str]:
    """The checks this document gets: its requirements' lists (or the type's defaults), plus
    PDF structure for every PDF and expiry wherever a date applies; only those that suit the
    detected format."""
    kinds: set[str] = set()
    for requirement in (requirements_for(document) if requirements is None else requirements):
        kinds |= set(requirement.checks)
    if not kinds:
        kinds |= set(_DEFAULT_BY_TYPE.get(document.document_type.code, []))
    if document.detected_format == "pdf":
        kinds.add(K.PDF)
    if document.document_type.expires or document.valid_until:
        kinds.add(K.EXPIRY)
    return sorted(k for k in kinds if document.detected_format in _FORMAT_KINDS[k])


def document_checks_prepare(*, document: Document) -> list[str]:
    """Create the pending check rows in the upload's transaction and send the task on commit.
    Quarantined files are kept as evidence and never parsed."""
    if document.quarantined:
        return []
    kinds = check_kinds(document)
    DocumentCheck.objects.bulk_create([DocumentCheck(document=document, kind=k) for k in kinds],
                                      ignore_conflicts=True)
    enqueue_on_commit(TaskName.DOCUMENT_CHECK, document_id=document.pk)
    return kinds


def _validity_days(document: Document, requirements) -> int | None:
    days = [r.validity_days for r in requirements if r.validity_days]
    return min(days) if days else document.document_type.validity_days


def _context_factory(document: Document, requirements, path):
    """kind -> CheckContext over the worker's local copy at `path`. What every check shares
    (policy in force, the site, validity) is read once per run, not once per check: the policy
    table and profiles are small but each read is a query, and a document runs several checks."""
    from apps.investigations.policy import PolicyResolver

    enterprise = document.application.enterprise
    site = None
    if enterprise.operating_lat is not None and enterprise.operating_lng is not None:
        site = (float(enterprise.operating_lat), float(enterprise.operating_lng))
    policy = PolicyResolver()
    validity_days = _validity_days(document, requirements)
    profiles: dict[str, list] | None = None
    related: tuple | None = None

    def context(kind: str) -> CheckContext:
        nonlocal profiles, related
        kind_profiles = []
        if kind == K.BANK_STATEMENT and related is None:
            from apps.parties.selectors import related_party_identities

            related = tuple(related_party_identities(enterprise_id=enterprise.pk))
        if kind in _RECORD_KIND:
            if profiles is None:
                profiles = {}
                for profile in ColumnProfile.objects.filter(is_active=True):
                    profiles.setdefault(profile.kind, []).append(profile)
            kind_profiles = profiles.get(_RECORD_KIND[kind], [])
        return CheckContext(
            path=path, format=document.detected_format,
            document_type=document.document_type.code, metadata=document.metadata,
            uploaded_at=document.uploaded_at, policy=policy, valid_until=document.valid_until,
            validity_days=validity_days, site=site, profiles=kind_profiles,
            related_identities=related or ())
    return context


class ChecksBusy(Exception):
    """Another run holds a check of this document and its lease has not run out: it may be
    alive. The task retries after `countdown` seconds and then resumes the check if that run
    has died (issue 16: the retry used to skip it and leave it to the sweeper)."""

    def __init__(self, countdown: int):
        super().__init__(f"a check is running elsewhere; retry in {countdown} s")
        self.countdown = countdown


def check_lease() -> dt.timedelta:
    """How long a running check belongs to the run that started it: the task's hard time
    limit plus a margin, after which that run is certainly dead (the limit kills it)."""
    from apps.documents.tasks import HARD_LIMIT

    return dt.timedelta(seconds=setting("CHECK_LEASE_SECONDS", HARD_LIMIT + 30))


def document_check(*, document_id: int) -> Document | None:
    """Run every pending check of a document and conclude it (the check task's body).

    Safe to call any number of times, concurrently too: decided documents are left alone,
    results are recorded once. A check left running by a run that died (past its lease) is
    resumed here, counting an attempt; one still within another run's lease raises
    `ChecksBusy` after the rest are done, so the task comes back once the lease is over.
    """
    with transaction.atomic():
        document = (Document.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("document_type", "application__enterprise",
                                    "application__product_version")
                    .filter(pk=document_id).first())
        if document is None:
            return None
        if document.state == S.UPLOADED:
            document.check_start(at=timezone.now())
            document.save()
            audit_record(action="document.checks_started", actor=None, subject=document,
                         payload={"application_id": document.application_id})
        elif document.state != S.CHECKING:
            return document
        requirements = list(requirements_for(document))
        # A re-run after a requirement gained a check kind: its row is created here.
        DocumentCheck.objects.bulk_create(
            [DocumentCheck(document=document, kind=k)
             for k in check_kinds(document, requirements)], ignore_conflicts=True)
        todo = list(document.checks.filter(status__in=[C.PENDING, C.RUNNING])
                    .values_list("pk", flat=True))
    busy_until = None
    if todo:
        # The checks read a private copy fetched through the storage API: a worker needs the
        # object store, never the web host's disk (issue 23).
        from apps.documents.services import document_local_copy

        with ExitStack() as stack:
            try:
                path = stack.enter_context(document_local_copy(document))
            except FileNotFoundError:
                log.error("document %s: nothing stored under %s", document.pk,
                          document.storage_name)
                path = None  # each check records the error: a missing file is a result too
            context = _context_factory(document, requirements, path)
            for check_id in todo:
                lease_end = _run_one(check_id, document, context)
                if lease_end is not None:
                    busy_until = min(busy_until or lease_end, lease_end)
    concluded = document_conclude(document_id=document_id)
    if busy_until is not None and concluded is not None and concluded.state == S.CHECKING:
        wait = (busy_until - timezone.now()).total_seconds()
        raise ChecksBusy(countdown=max(5, int(wait) + 5))
    return concluded


def _claim(check: DocumentCheck, document: Document, now: dt.datetime):
    """Under the check's lock: True to run it now, False when it is done or given up on, or
    the end of another run's lease when that run may still be alive."""
    if check.status == C.PENDING:
        check.start(at=now)
        check.save()
        return True
    if check.status != C.RUNNING:
        return False  # another delivery finished it
    lease_end = check.started_at + check_lease()
    if lease_end > now:
        return lease_end
    # Its run died (killed worker, lost pool child): resume it, within the attempt limit.
    if check.attempts >= setting("CHECK_MAX_ATTEMPTS", 3):
        check.record_error(at=now, version="", error=_(
            "The worker stopped %(n)s times while running this check.") % {"n": check.attempts})
        check.save()
        audit_record(action="document.check_abandoned", actor=None, subject=document,
                     payload={"check": check.kind, "attempts": check.attempts,
                              "reason": "resumed"})
        return False
    check.requeue()
    check.start(at=now)
    check.save()
    audit_record(action="document.check_requeued", actor=None, subject=document,
                 payload={"check": check.kind, "attempts": check.attempts, "reason": "resumed"})
    return True


def _run_one(check_id: int, document: Document, context) -> dt.datetime | None:
    """Run one check if this run may; returns another run's lease end when it may not."""
    with transaction.atomic():
        check = DocumentCheck.objects.select_for_update(no_key=True).get(pk=check_id)
        claimed = _claim(check, document, timezone.now())
        if claimed is not True:
            return claimed or None
    version, run = checker(check.kind)
    check_context = context(check.kind)
    if check_context.path is None:
        _record(check_id, document, None, version=version,
                error=_("The stored file could not be found."))
        return None
    try:
        outcome = run(check_context)
    except TransientCheckError:
        _requeue(check_id)  # the task retries with backoff; the row must be pending again
        raise
    except Exception as exc:  # noqa: BLE001 - a crash (or soft time limit) is a result too
        from celery.exceptions import SoftTimeLimitExceeded

        error = (_("The check took longer than its time limit.")
                 if isinstance(exc, SoftTimeLimitExceeded) else f"{type(exc).__name__}: {exc}")
        log.warning("document check %s crashed", check_id, exc_info=True)
        _record(check_id, document, None, version=version, error=error)
        return
    _record(check_id, document, outcome, version=version)


def _requeue(check_id: int) -> None:
    with transaction.atomic():
        check = DocumentCheck.objects.select_for_update(no_key=True).get(pk=check_id)
        if check.status == C.RUNNING:
            check.requeue()
            check.save()
            audit_record(action="document.check_requeued", actor=None, subject=check.document,
                         payload={"check": check.kind, "attempts": check.attempts,
                                  "reason": "transient"})


def _record(check_id: int, document: Document, outcome: CheckOutcome | None, *, version: str,
            error: str = "") -> None:
    with transaction.atomic():
        check = DocumentCheck.objects.select_for_update(no_key=True).get(pk=check_id)
        if check.status != C.RUNNING:
            return  # the sweeper gave up on it meanwhile: its record stands
        now = timezone.now()
        if outcome is None:
            check.record_error(at=now, error=error, version=version)
        else:
            if check.kind == K.PHOTO:
                outcome = photo_reuse.record_and_compare(document, outcome)
            record = {C.PASSED: check.record_pass, C.FAILED: check.record_fail,
                      C.ATTENTION: check.record_attention}[outcome.status]
            record(at=now, findings=outcome.findings, version=version)
        check.save()
        audit_record(action="document.check_recorded", actor=None, subject=document,
                     payload={"check": check.kind, "status": check.status,
                              "version": version, "attempts": check.attempts,
                              "flags": [f["code"] for f in check.findings.get("flags", [])],
                              "error": check.error})


def _attention_reason(checks: list[DocumentCheck]) -> str:
    reasons = []
    for check in checks:
        if check.status == C.ERROR:
            reasons.append(flag_text(flag("check_crashed", error=check.error)))
        elif check.status == C.ATTENTION:
            reasons += [flag_text(f) for f in check.findings.get("flags", [])
                        if f.get("severity") != "info"]
    return " ".join(reasons)[:2000]


def document_conclude(*, document_id: int) -> Document | None:
    """When every check is done, decide the document: failed if any check failed, needs
    attention if any crashed or flagged something, else passed."""
    with transaction.atomic():
        document = Document.objects.select_for_update(no_key=True).filter(pk=document_id).first()
        if document is None or document.state != S.CHECKING:
            return document
        checks = list(document.checks.all())
        if any(c.status not in CHECK_DONE for c in checks):
            return document
        now = timezone.now()
        expiry = next((c for c in checks if c.kind == K.EXPIRY and c.findings), None)
        if expiry is not None and expiry.findings.get("expires_on"):
            document.expires_on = dt.date.fromisoformat(expiry.findings["expires_on"])
        statuses = {c.status for c in checks}
        if C.FAILED in statuses:
            document.check_fail(at=now)
        elif statuses & {C.ERROR, C.ATTENTION}:
            document.check_flag(at=now, reason=_attention_reason(checks))
        else:
            document.check_pass(at=now)
        document.save()
        audit_record(action="document.checked", actor=None, subject=document,
                     payload={"state": document.state,
                              "checks": {c.kind: c.status for c in checks},
                              "expires_on": (document.expires_on.isoformat()
                                             if document.expires_on else None)})
    return document


def document_recheck(*, document_id: int, actor: User) -> Document:
    """A person asks for every check to run again (after a policy or profile change, or to
    clear a crash). Who: `can_recheck`. The document must be decided (not mid-check)."""
    document_get(viewer=actor, document_id=document_id)  # 404 unless visible
    with transaction.atomic():
        document = (Document.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("application")
                    .get(pk=document_id))
        transition_check(document.recheck, actor=actor)
        document.recheck(at=timezone.now())
        document.save()
        for check in document.checks.select_for_update(no_key=True):
            if check.status in CHECK_DONE:
                check.reset()
                check.save()
        audit_record(action="document.recheck_requested", actor=actor, subject=document,
                     payload={"application_id": document.application_id})
        enqueue_on_commit(TaskName.DOCUMENT_CHECK, document_id=document.pk)
    return document


def document_check_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Re-queue checks stuck longer than DOCUMENTS_CHECK_STUCK_MINUTES (a lost message, a
    killed worker); past DOCUMENTS_CHECK_MAX_ATTEMPTS, record the error so the document needs
    attention instead of looping; conclude documents whose checks are all done. Each unit in
    its own short transaction. The stuck limit (5 min) stays above the check's lease."""
    from django.db import close_old_connections, connection

    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=setting("CHECK_STUCK_MINUTES", 5))
    max_attempts = setting("CHECK_MAX_ATTEMPTS", 3)
    counts = {"requeued": 0, "gave_up": 0, "resent": 0}
    to_send: set[int] = set()

    stuck = DocumentCheck.objects.filter(status=C.RUNNING, started_at__lt=cutoff)
    for check_id in list(stuck.values_list("pk", flat=True)[:1000]):
        if not connection.in_atomic_block:  # inside a caller's transaction it would close it
            close_old_connections()
        with transaction.atomic():
            check = (DocumentCheck.objects.select_for_update(no_key=True, of=("self",))
                     .select_related("document")
                     .get(pk=check_id))
            if check.status != C.RUNNING or check.started_at >= cutoff:
                continue
            if check.attempts >= max_attempts:
                check.record_error(at=now, version="", error=_(
                    "The worker stopped %(n)s times while running this check.")
                    % {"n": check.attempts})
                action, counts["gave_up"] = "document.check_abandoned", counts["gave_up"] + 1
            else:
                check.requeue()
                action, counts["requeued"] = "document.check_requeued", counts["requeued"] + 1
            check.save()
            audit_record(action=action, actor=None, subject=check.document,
                         payload={"check": check.kind, "attempts": check.attempts,
                                  "reason": "stuck"})
        to_send.add(check.document_id)

    # Never picked up (message lost) or left with pending checks after a crash.
    lost = (Document.objects.filter(state=S.UPLOADED, quarantined=False,
                                    uploaded_at__lt=cutoff)
            .values_list("pk", flat=True)[:1000])
    pending = (Document.objects.filter(state=S.CHECKING, checks_started_at__lt=cutoff,
                                       checks__status=C.PENDING)
               .values_list("pk", flat=True).distinct()[:1000])
    for document_id in {*lost, *pending} - to_send:
        to_send.add(document_id)
        counts["resent"] += 1
    for document_id in sorted(to_send):
        with transaction.atomic():
            enqueue_on_commit(TaskName.DOCUMENT_CHECK, document_id=document_id)
    # Documents whose every check has a result but which were never concluded (the run died
    # between the last result and the conclusion, or the sweeper gave up on the last check).
    unfinished = DocumentCheck.objects.filter(document=OuterRef("pk"),
                                              status__in=[C.PENDING, C.RUNNING])
    done = (Document.objects.filter(state=S.CHECKING, checks_started_at__lt=cutoff)
            .filter(~Exists(unfinished)).values_list("pk", flat=True)[:1000])
    counts["concluded"] = 0
    for document_id in sorted({*done, *to_send}):
        concluded = document_conclude(document_id=document_id)
        counts["concluded"] += concluded is not None and concluded.state != S.CHECKING
    return counts
