"""The orphan-file sweep: stored bytes whose Document row never committed (issue 16).

The upload never deletes a stored file once its row may have committed (a failure after the
commit used to delete committed evidence); the price is that a transaction that rolled back
late, or a process killed between the rename and the commit, can leave bytes with no row.
This sweep removes exactly those, and only after a grace period far longer than any upload's
transaction, so a file whose row is about to commit is never touched. A file with a row is
never deleted, whatever its age: retention of evidence is a separate, audited decision.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from pathlib import Path

from django.conf import settings

from apps.documents.models import Document

log = logging.getLogger(__name__)
_BATCH = 500


def orphan_grace() -> dt.timedelta:
    """DOCUMENTS_ORPHAN_GRACE_HOURS (default 24): how old a row-less file must be to go."""
    return dt.timedelta(hours=getattr(settings, "DOCUMENTS_ORPHAN_GRACE_HOURS", 24))


def _stored_files(root: Path, staging: str):
    for path in root.rglob("*"):
        if path.is_file() and staging not in path.relative_to(root).parts:
            yield path


def document_orphans_sweep(*, now: float | None = None) -> dict[str, int]:
    """Delete stored files with no Document row that are older than the grace period, and
    staging folders left by killed uploads. Returns counts. Idempotent: it only deletes what
    no row names, so running it twice (or on two hosts sharing the store) changes nothing."""
    from apps.documents.services import STAGING, documents_root

    root = documents_root()
    counts = {"checked": 0, "removed": 0, "staging_removed": 0}
    if not root.exists():
        return counts
    cutoff = (now or time.time()) - orphan_grace().total_seconds()
    media = Path(settings.MEDIA_ROOT)
    old = [p for p in _stored_files(root, STAGING) if p.stat().st_mtime < cutoff]
    for start in range(0, len(old), _BATCH):
        batch = {str(p.relative_to(media)): p for p in old[start:start + _BATCH]}
        counts["checked"] += len(batch)
        known = set(Document.objects.filter(storage_name__in=list(batch))
                    .values_list("storage_name", flat=True))
        for name, path in batch.items():
            if name in known:
                continue
            log.warning("removing orphan document file %s (no row, older than %s)",
                        name, orphan_grace())
            path.unlink(missing_ok=True)
            counts["removed"] += 1
    staging = root / STAGING
    if staging.exists():
        for work_dir in staging.iterdir():
            if work_dir.stat().st_mtime < cutoff:
                shutil.rmtree(work_dir, ignore_errors=True)
                counts["staging_removed"] += 1
    return counts
