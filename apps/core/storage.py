"""Stored files go through Django's storage API, never a path (issue 23).

The default storage is the local disk for an embedded `make run` and S3-compatible object
storage (django-storages' S3Storage) when S3_BUCKET is set (config/settings/base.py). Code that
keeps or reads a file uses the helpers here, so it works the same on both:

- `staged_save(name, path)`: a finished local work file becomes a stored file. On the local disk
  FileSystemStorage moves it into place with a rename (`file_move_safe`), so a half-written file
  is never visible under its final name; on object storage it is one PUT (or a multipart upload
  completed at once), which is atomic too.
- `local_copy(name)`: a worker that needs a path (pypdf, Pillow, openpyxl) fetches the stored
  file through `storage.open()`/`chunks()` into a private temporary file of its own host, removed
  on exit. A worker therefore needs no access to the web host's disk.
- `download_source(name, ...)`: what a permission-checked download hands out: an open stored
  file to stream, or (on object storage, when the setting asks for it) a short-lived signed URL.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.http import content_disposition_header

CHUNK = 1 << 20


def is_local(storage=None) -> bool:
    """True when files sit on this host's disk (the lazy default_storage passes isinstance)."""
    return isinstance(storage or default_storage, FileSystemStorage)


class StagedFile(File):
    """A finished local file offered to `storage.save()`. Its `temporary_file_path()` lets
    FileSystemStorage rename it into place instead of copying it chunk by chunk."""

    def __init__(self, path: Path | str):
        self._staged_path = str(path)
        super().__init__(open(path, "rb"), name=Path(path).name)  # noqa: SIM115 - closed by save

    def temporary_file_path(self) -> str:
        return self._staged_path


def staged_save(name: str, path: Path | str, *, storage=None) -> str:
    """Store the local file at `path` under `name`; returns the name it was stored under (the
    same unless that name was taken: storages never overwrite here)."""
    storage = storage or default_storage
    staged = StagedFile(path)
    try:
        return storage.save(name, staged)
    finally:
        staged.close()


def scratch_dir(prefix: str) -> Path:
    """A private work folder on this host, outside the store (FILE_UPLOAD_TEMP_DIR or the
    system's temporary folder)."""
    parent = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


@contextmanager
def local_copy(name: str, *, suffix: str = "", storage=None) -> Iterator[Path]:
    """The stored file `name`, fetched through the storage API into a private temporary file
    on this host for the length of the block. FileNotFoundError when nothing is stored there."""
    storage = storage or default_storage
    work = scratch_dir("credence-read-")
    try:
        path = work / f"stored{suffix}"
        with storage.open(name, "rb") as source, open(path, "wb") as out:
            for chunk in source.chunks(CHUNK):
                out.write(chunk)
        yield path
    finally:
        shutil.rmtree(work, ignore_errors=True)


def signed_url_seconds() -> int:
    """STORAGE_SIGNED_URL_SECONDS: 0 (default) streams downloads through the web process; a
    positive number redirects to a signed URL of the object store valid that long. Ignored on
    the local disk, which has no signed URLs."""
    return int(getattr(settings, "STORAGE_SIGNED_URL_SECONDS", 0) or 0)


def download_source(name: str, *, filename: str, content_type: str,
                    storage=None) -> BinaryIO | str:
    """An open stored file (to stream) or a signed URL (to redirect to), per the setting.

    Raises FileNotFoundError when nothing is stored under `name`, so a caller that records the
    download after this call records only downloads whose bytes were there."""
    storage = storage or default_storage
    seconds = signed_url_seconds()
    if seconds > 0 and not is_local(storage):
        if not storage.exists(name):
            raise FileNotFoundError(name)
        return storage.url(name, expire=seconds, parameters={
            "ResponseContentDisposition": content_disposition_header(True, filename),
            "ResponseContentType": content_type,
            "ResponseCacheControl": "private, no-store"})
    return storage.open(name, "rb")
