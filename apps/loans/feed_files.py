"""Importing a feed file from disk (the file-drop command, the upload page): hash, open, import."""

from __future__ import annotations

import hashlib
from pathlib import Path

from apps.loans import feed_phases
from apps.loans.feed import Outcome, feed_import
from apps.loans.feed_parse import FeedFileUnreadable, feed_file_open
from apps.loans.feed_phases import phase
from apps.loans.models import FeedImport


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def feed_file_import(*, path: Path, filename: str, actor=None, today=None) -> Outcome:
    """Import a CSV or XLSX feed file, every row or none (apps.loans.feed.feed_import); a file
    that cannot be read at all is recorded as a refused import too."""
    feed_phases.reset()
    with phase("read"):
        sha = file_sha256(path)
    try:
        with phase("read"):
            opened = feed_file_open(path)
    except FeedFileUnreadable as exc:
        return feed_import(header=[], rows=[], source=FeedImport.Source.FILE, filename=filename,
                           sha256=sha, actor=actor, today=today, unreadable=exc.reasons)
    try:
        if opened.cells is not None:
            return feed_import(header=opened.header, cells=opened.cells, csv_file=opened.csv_file,
                               source=FeedImport.Source.FILE, filename=filename, sha256=sha,
                               actor=actor, today=today)
        return feed_import(header=opened.header, rows=opened.rows, source=FeedImport.Source.FILE,
                           filename=filename, sha256=sha, actor=actor, today=today)
    except FeedFileUnreadable as exc:  # malformed CSV met while streaming the rows
        return feed_import(header=[], rows=[], source=FeedImport.Source.FILE, filename=filename,
                           sha256=sha, actor=actor, today=today, unreadable=exc.reasons)
