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
from collections.abc import Iterator

from django.conf import settings
from django.core.files.storage import default_storage

from apps.documents.models import Document

log = logging.getLogger(__name__)
_BATCH = 500


def orphan_grace() -> dt.timedelta:
    """DOCUMENTS_ORPHAN_GRACE_HOURS (default 24): how old a row-less file must be to go."""
    return dt.timedelta(hours=getattr(settings, "DOCUMENTS_ORPHAN_GRACE_HOURS", 24))


def _stored_names(storage, folder: str, staging: str) -> Iterator[str]:
    """Every stored name under `folder`, through the storage API (a listing on object storage,
    the folder tree on the local disk), the local staging folder excluded."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        if sub != staging:
            yield from _stored_names(storage, f"{folder}/{sub}", staging)


def stored_document_names() -> set[str]:
    """Every document name the default storage holds (staging excluded)."""
    from apps.documents.services import STAGING

    return set(_stored_names(default_storage, "documents", STAGING))


def document_orphans_sweep(*, now: float | None = None) -> dict[str, int]:
    """Delete stored files with no Document row that are older than the grace period, and
    staging folders left by killed uploads on this host. Returns counts. Idempotent: it only
    deletes what no row names, so running it twice (or on two hosts sharing the store) changes
    nothing. The age of a file is asked only for names no row holds (rare), so a sweep of a
    large bucket costs one listing and one query per 500 names."""
    from apps.documents.services import STAGING, staging_root

    storage = default_storage
    counts = {"checked": 0, "removed": 0, "staging_removed": 0}
    cutoff = (now or time.time()) - orphan_grace().total_seconds()
    names = list(_stored_names(storage, "documents", STAGING))
    for start in range(0, len(names), _BATCH):
        batch = names[start:start + _BATCH]
        counts["checked"] += len(batch)
        known = set(Document.objects.filter(storage_name__in=batch)
                    .values_list("storage_name", flat=True))
        for name in batch:
            if name in known or storage.get_modified_time(name).timestamp() >= cutoff:
                continue
            # The row may have committed since the listing: ask again, just before deleting.
            if Document.objects.filter(storage_name=name).exists():
                continue
            log.warning("removing orphan document file %s (no row, older than %s)",
                        name, orphan_grace())
            storage.delete(name)
            counts["removed"] += 1
    staging = staging_root()
    for work_dir in staging.iterdir():
        if work_dir.stat().st_mtime < cutoff:
            shutil.rmtree(work_dir, ignore_errors=True)
            counts["staging_removed"] += 1
    return counts
