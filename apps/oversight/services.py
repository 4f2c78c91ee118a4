"""Writes of the oversight app: export jobs, and the events that record what auditors saw.

Auditors change nothing in the workflow; what they do here is itself recorded (a request for
an export, a download, a viewed trail or evidence pack), because reading customer files is
processing personal information (PIPL art. 51: access records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from apps.applications.models import Application
from apps.audit.services import audit_chain_verify, audit_record, audit_record_now
from apps.core import storage as stored
from apps.core.fsm import transition_check
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.oversight.access import is_auditor, require_auditor
from apps.oversight.models import ExportJob
from apps.oversight.selectors import audit_event_list
from apps.oversight.states import ExportJobState, ExportKind

logger = logging.getLogger(__name__)
EXTENSIONS = {ExportKind.EVENTS_XLSX: "xlsx", ExportKind.TRAIL_PDF: "pdf",
              ExportKind.PACK_PDF: "pdf"}
PROGRESS_EVERY = 5000


EXPORTS_PREFIX = "exports/"


@transaction.atomic
def export_job_request(*, kind: str, actor, filters: dict | None = None,
                       application_id: int | None = None) -> ExportJob:
    """Queue a background export for an auditor; the worker runs it after commit."""
    require_auditor(actor)
    if kind not in ExportKind.values:
        raise ValueError(f"unknown export kind {kind!r}")
    application = None
    if kind in (ExportKind.TRAIL_PDF, ExportKind.PACK_PDF):
        application = Application.objects.get(pk=application_id)
    job = ExportJob.objects.create(kind=kind, requested_by=actor, filters=filters or {},
                                   application=application)
    audit_record(action="export.requested", actor=actor, subject=job,
                 payload={"kind": kind, "filters": job.filters,
                          "application_id": application_id})
    enqueue_on_commit(TaskName.OVERSIGHT_EXPORT_JOB_RUN, job_id=str(job.pk))
    return job


def _set_progress(job_id, done: int) -> None:
    # Progress is a counter, not a state: a plain update, visible to the page at once.
    ExportJob.objects.filter(pk=job_id).update(progress=done)


def _produce(job: ExportJob, path: Path) -> dict:
    """Write the job's file; returns its manifest (empty for PDFs)."""
    if job.kind == ExportKind.EVENTS_XLSX:
        from apps.oversight.exports import begin_export
        from apps.oversight.xlsx import write_xlsx

        pinned, manifest = begin_export(viewer=job.requested_by, filters=job.filters)
        last = [0]

        def progress(done: int) -> None:
            if done - last[0] >= PROGRESS_EVERY:
                last[0] = done
                _set_progress(job.pk, done)
        write_xlsx(path, viewer=job.requested_by, filters=pinned, manifest=manifest,
                   progress=progress)
        return manifest.as_dict()
    from apps.oversight import pdf

    application = Application.objects.select_related("enterprise", "branch").get(
        pk=job.application_id)
    if job.kind == ExportKind.TRAIL_PDF:
        from apps.oversight.trail import build_trail

        pdf.render_trail_pdf(build_trail(application), path)
    else:
        from apps.oversight.duties import build_pack

        pdf.render_pack_pdf(build_pack(application), path)
    return {}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_job_run(*, job_id) -> ExportJob:
    """Produce the file of a queued job (the worker's entry point).

    Idempotent: a finished job is left alone; one found running is a redelivery after a lost
    worker and is marked failed. The requester is checked again, as they may have lost the
    auditor role since asking.
    """
    with transaction.atomic():
        job = ExportJob.objects.select_for_update(no_key=True).get(pk=job_id)
        if job.state == ExportJobState.RUNNING:
            # Redelivered after its worker was lost (acks_late): say so, so the auditor can
            # ask again, rather than leave the job "running" forever.
            job.fail(at=timezone.now(), error="The export was interrupted; please ask again.")
            job.save()
            audit_record(action="export.failed", actor=None, subject=job,
                         payload={"kind": job.kind, "error": job.error})
            return job
        if job.state != ExportJobState.QUEUED:
            return job
        if not is_auditor(job.requested_by):
            job.fail(at=timezone.now(), error="The requester is no longer an auditor.")
            job.save()
            audit_record(action="export.failed", actor=None, subject=job,
                         payload={"kind": job.kind, "error": job.error})
            return job
        transition_check(job.start, actor=None)
        total = 1
        if job.kind == ExportKind.EVENTS_XLSX:
            total = audit_event_list(viewer=job.requested_by, filters=job.filters).count()
        job.start(at=timezone.now(), total=total)
        job.save()
    # Written in a private work folder of the worker's host, then stored through the storage
    # API (the local disk or object storage): the web process that serves it may be elsewhere.
    work_dir = stored.scratch_dir("credence-export-")
    path = work_dir / f"{job.pk}.{EXTENSIONS[job.kind]}"
    try:
        manifest = _produce(job, path)
        size, sha256 = path.stat().st_size, _file_sha256(path)
        name = stored.staged_save(f"{EXPORTS_PREFIX}{job.pk}.{EXTENSIONS[job.kind]}", path)
    except Exception as exc:
        logger.exception("Export job %s failed", job.pk)
        with transaction.atomic():
            job = ExportJob.objects.select_for_update(no_key=True).get(pk=job.pk)
            job.fail(at=timezone.now(), error=f"{type(exc).__name__}: {exc}")
            job.save()
            audit_record(action="export.failed", actor=None, subject=job,
                         payload={"kind": job.kind, "error": job.error})
        return job
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    with transaction.atomic():
        job = ExportJob.objects.select_for_update(no_key=True).get(pk=job.pk)
        job.finish(at=timezone.now(), file_name=name, size=size, sha256=sha256,
                   manifest=manifest)
        job.progress = manifest.get("count", 1)
        job.save()
        audit_record(action="export.completed", actor=None, subject=job,
                     payload={"kind": job.kind, "sha256": sha256, "size": size,
                              "manifest": manifest})
    return job


def export_download_filename(job: ExportJob) -> str:
    name = f"{job.kind}-{job.application.reference if job.application_id else job.pk}"
    return f"{name}.{EXTENSIONS[job.kind]}"


def export_job_download(*, job: ExportJob, actor) -> BinaryIO | str:
    """The file of a finished job, for its requester or another auditor; recorded. An open
    stored file to stream, or a short-lived signed URL (STORAGE_SIGNED_URL_SECONDS on object
    storage). FileNotFoundError when the store no longer has it (nothing is recorded then)."""
    require_auditor(actor)
    name = job.file_name
    if (not name.startswith(EXPORTS_PREFIX) or ".." in PurePosixPath(name).parts
            or "\\" in name):
        raise FileNotFoundError(name)
    content_type = ("application/pdf" if EXTENSIONS[job.kind] == "pdf" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    source = stored.download_source(name, filename=export_download_filename(job),
                                    content_type=content_type)
    try:
        audit_record_now(action="export.downloaded", actor=actor, subject=job,
                         payload={"kind": job.kind, "sha256": job.sha256})
    except BaseException:
        if not isinstance(source, str):
            source.close()
        raise
    return source


def events_exported(*, actor, fmt: str, filters: dict, head_seq) -> None:
    """A streamed CSV/JSON export is recorded before its first byte leaves."""
    require_auditor(actor)
    audit_record_now(action="audit.exported", actor=actor, subject=("audit.export", fmt),
                     payload={"format": fmt, "filters": filters, "head_seq": head_seq})


def application_viewed(*, actor, application: Application, what: str) -> None:
    """An auditor opened an application's trail or evidence pack (a sensitive view)."""
    require_auditor(actor)
    action = {"trail": "trail.viewed", "pack": "evidence_pack.viewed"}[what]
    audit_record_now(action=action, actor=actor, subject=application,
                     payload={"reference": application.reference})


def chain_check(*, actor, start_seq: int | None, end_seq: int | None):
    """Verify a range of the chain on an auditor's request; the outcome is recorded."""
    require_auditor(actor)
    report = audit_chain_verify(start_seq=start_seq, end_seq=end_seq)
    if not report.ok:
        logger.error("Audit chain broken at event %s: %s (checked by %s)", report.bad_seq,
                     report.problem, actor.get_username())
    audit_record_now(action="audit_chain.checked", actor=actor,
                     subject=("audit.chain", f"{start_seq or 1}-{end_seq or 'head'}"),
                     payload={"ok": report.ok, "checked": report.checked,
                              "bad_seq": report.bad_seq, "problem": report.problem,
                              "from_seq": start_seq, "to_seq": end_seq})
    return report


STUCK_AFTER = dt.timedelta(minutes=10)


def export_jobs_sweep(*, now=None) -> int:
    """Re-send every job still queued STUCK_AFTER after it was asked for; returns how many."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    ids = list(ExportJob.objects.filter(state=ExportJobState.QUEUED, created_at__lt=cutoff)
               .values_list("pk", flat=True)[:500])
    for job_id in ids:
        with transaction.atomic():
            enqueue_on_commit(TaskName.OVERSIGHT_EXPORT_JOB_RUN, job_id=str(job_id))
    return len(ids)
