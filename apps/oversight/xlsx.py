"""The XLSX export, written by a worker in openpyxl's write-only mode (rows go straight to
the zip stream: memory stays flat), with the manifest on a second sheet."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from apps.oversight.cells import COLUMNS
from apps.oversight.exports import Manifest, iter_rows

# XML 1.0 refuses these; openpyxl would raise. Shown as U+FFFD, so the cell is flagged by
# verify_export rather than silently dropped.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MANIFEST_SHEET = "manifest"


def _cell(value: str) -> str:
    return _ILLEGAL.sub("\ufffd", value)


def write_xlsx(path: Path, *, viewer, filters: dict, manifest: Manifest,
               progress: Callable[[int], None]) -> None:
    """Every cell is text (seq included): the copy reads back exactly as written, and the
    formula escaping of `cells.safe_text` already applied keeps '=…' inert."""
    book = Workbook(write_only=True)
    events = book.create_sheet("events")
    events.append(list(COLUMNS))
    for chunk in iter_rows(viewer=viewer, filters=filters):
        for row in chunk:
            events.append([_cell(value) for value in row])
            manifest.add(int(row[0]), row[-1])
        progress(manifest.count)
    sheet = book.create_sheet(MANIFEST_SHEET)
    for key, value in manifest.as_dict().items():
        sheet.append([key, json.dumps(value) if isinstance(value, dict | list) else value])
    book.save(path)
