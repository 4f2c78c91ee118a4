"""Training from the model page or the API: the CSV is checked and stored (or the database's
labelled loans are counted), and a worker trains the model with progress on the job row,
which the job page polls (issue 6)."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from contextlib import ExitStack

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.queue import enqueue_on_commit
from apps.core.storage import local_copy
from apps.core.task_names import TaskName
from apps.scoring.features.training import OUTCOME
from apps.scoring.models import TrainingJob
from apps.scoring.permissions import may_manage_models
from apps.scoring.scorecard.data import DataError
from apps.scoring.services.performance import outcome_labels, training_set_from_database
from apps.scoring.services.training import MODEL_CLASSES, model_version_train
from apps.scoring.states import TrainingJobState, TrainingSource

logger = logging.getLogger(__name__)
# A historical loan book of a branch network fits easily; a file this size is not a loan book.
MAX_TRAINING_CSV_BYTES = 50 * 1024 * 1024


def _check_csv(content: bytes, target: str) -> None:
    """Refuse what training would refuse anyway, before queueing: size, encoding, target."""
    errors = {}
    if len(content) > MAX_TRAINING_CSV_BYTES:
        errors["csv_file"] = _("The file is larger than 50 MB.")
    else:
        try:
            header = next(csv.reader(io.StringIO(content[:65536].decode("utf-8-sig"))), [])
        except UnicodeDecodeError:
            header = None
            errors["csv_file"] = _("The file is not UTF-8 text.")
        if header is not None and target not in [h.strip() for h in header]:
            errors["target"] = _("The CSV has no column named %(name)s.") % {"name": target}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def training_job_start(*, actor, kind: str, seed: int = 0, source: str = TrainingSource.CSV,
                       content: bytes | None = None, filename: str = "",
                       target: str = "") -> TrainingJob:
    """Store the CSV (or check the database has enough labelled loans) and queue the training;
    the worker registers a draft version."""
    if not may_manage_models(actor):
        raise PermissionDenied(_("You may not train models."))
    if kind not in MODEL_CLASSES:
        raise ValidationError({"kind": _("Unknown model kind.")})
    if source == TrainingSource.DATABASE:
        labels = outcome_labels()
        try:  # refused now rather than as a failed job a minute later
            labels.check_enough()
        except DataError as exc:
            raise ValidationError({"source": str(exc)}) from None
        job = TrainingJob.objects.create(source=source, target=OUTCOME, kind=kind, seed=seed,
                                         requested_by=actor, labels=labels.summary())
        payload = {"source": source, "kind": kind, "seed": seed, "goods": labels.goods,
                   "bads": labels.bads}
    elif source == TrainingSource.CSV:
        target = (target or "").strip()
        if not content:
            raise ValidationError({"csv_file": _("Upload the CSV of historical loans.")})
        _check_csv(content, target)
        sha = hashlib.sha256(content).hexdigest()
        job = TrainingJob(source=source, target=target, kind=kind, seed=seed,
                          requested_by=actor, csv_sha256=sha)
        job.csv_file.save(f"{sha[:16]}.csv", ContentFile(content), save=False)
        job.save()
        payload = {"source": source, "file": filename[:200], "sha256": sha, "target": target,
                   "kind": kind, "seed": seed}
    else:
        raise ValidationError({"source": _("Unknown training source.")})
    audit_record(action="model.training_started", actor=actor, subject=job, payload=payload)
    enqueue_on_commit(TaskName.SCORING_TRAIN, job_id=job.pk)
    return job


def training_job_run(*, job_id: int) -> TrainingJob:
    """Train (called by the job's Celery task); bad data fails the job with its reason."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update(no_key=True).get(pk=job_id)
        if job.state == TrainingJobState.RUNNING:
            # Redelivered while running: with acks_late that means its worker was lost (every
            # task ends within the visibility timeout). Fail it visibly, never "running" forever.
            job.fail(at=timezone.now(), error="The training was interrupted; start it again.")
            job.save()
            audit_record(action="model.training_failed", actor=None, subject=job,
                         payload={"error": job.error})
            return job
        if job.state != TrainingJobState.QUEUED:
            return job  # redelivered after it finished
        job.start()
        job.save()

    def progress(percent: int, stage: str) -> None:
        TrainingJob.objects.filter(pk=job_id).update(progress=percent, stage=stage)

    try:
        data = None
        if job.source == TrainingSource.DATABASE:
            data, labels = training_set_from_database()  # the book may have moved since start
            TrainingJob.objects.filter(pk=job_id).update(labels=labels.summary())
        with ExitStack() as stack:
            # The uploaded CSV is read through the storage API into this worker's own copy
            # (object storage in a scaled-out install): never by the web host's path.
            csv_path = (None if data is not None
                        else stack.enter_context(local_copy(job.csv_file.name, suffix=".csv")))
            version, metrics = model_version_train(
                csv_path=csv_path, data=data, target=job.target, kind=job.kind, seed=job.seed,
                actor=job.requested_by, progress=progress)
    except (DataError, ValueError) as exc:
        with transaction.atomic():
            job = TrainingJob.objects.select_for_update(no_key=True).get(pk=job_id)
            job.fail(at=timezone.now(), error=str(exc))
            job.save()
            audit_record(action="model.training_failed", actor=None, subject=job,
                         payload={"error": str(exc)[:500]})
        return job
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update(no_key=True).get(pk=job_id)
        job.complete(at=timezone.now(), model_version=version)
        job.save()
    logger.info("training job %s registered %s (AUC %s)", job_id, version.version,
                metrics.get("auc"))
    return job
