"""Reading a core-banking feed file (CSV or XLSX) row by row, without holding it in memory.

The format is decided by content, not by the file name: an xlsx is a zip ("PK\\x03\\x04") and
goes through the documents app's zip-bomb and path guards before openpyxl sees it; anything
else is read as CSV, strictly as UTF-8 (a BOM allowed) or else GB18030, the encoding of
Chinese bank exports. Cells come back as strings (CSV) or as openpyxl values (numbers, dates);
`apps.loans.feed` turns them into figures and names every bad one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from apps.documents.safety import UploadRejected, xlsx_inspect

ZIP_MAGIC = b"PK\x03\x04"


class FeedFileUnreadable(Exception):
    """The file as a whole cannot be read; `reasons` holds the message in each language."""

    def __init__(self, reasons: dict[str, str]):
        self.reasons = reasons
        super().__init__(reasons.get("en", ""))


@dataclass
class FeedFile:
    """A header (column names, lower-cased and trimmed) and its rows as (line, {column: cell});
    a CSV file also offers them as `cells`, (line, [cell per header column]), which the
    set-based import stages without a dict per row. Both read the same stream: take one."""

    header: list[str]
    rows: Iterator[tuple[int, dict]]
    cells: Iterator[tuple[int, list]] | None = None
    # A CSV file's path and encoding, when its header is one plain line (apps.loans.feed_sql
    # may then COPY the rest of the file as it is).
    csv_file: CsvFile | None = None


@dataclass
class CsvFile:
    path: Path
    encoding: str


def _normalise_header(cells) -> list[str]:
    return [str(c).strip().lower() if c is not None else "" for c in cells]


def feed_file_open(path: Path) -> FeedFile:
    """Open a dropped feed file; rows are read lazily as the caller iterates."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == ZIP_MAGIC:
        return _xlsx_open(path)
    return _csv_open(path)


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes so, else GB18030; checked in
    chunks, so a large file is never decoded into one string."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                while handle.read(1 << 20):
                    pass
            return encoding
        except UnicodeDecodeError:
            continue
    raise FeedFileUnreadable(_both(_("The file is neither an Excel workbook nor CSV text in "
                                   "UTF-8 or GB18030.")))


def _csv_open(path: Path) -> FeedFile:
    encoding = _csv_encoding(path)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(handle)
    try:
        header = _normalise_header(next(reader, []))
    except csv.Error as exc:
        handle.close()
        raise FeedFileUnreadable(_both(_("The CSV header could not be read."))) from exc

    def records():
        try:
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue  # blank lines (a trailing newline in Excel exports) are not rows
                yield reader.line_num, cells
        except csv.Error as exc:
            raise FeedFileUnreadable(_both(_("The CSV file is malformed near line %(line)s."),
                                           line=reader.line_num)) from exc
        finally:
            handle.close()

    cells = records()
    rows = ((line, dict(zip(header, values, strict=False))) for line, values in cells)
    plain_header = reader.line_num == 1
    return FeedFile(header=header, rows=rows, cells=cells,
                    csv_file=CsvFile(path, encoding) if plain_header else None)


def _xlsx_open(path: Path) -> FeedFile:
    from openpyxl import load_workbook

    try:
        xlsx_inspect(path)
    except UploadRejected:
        # The guard's message is in the active language; ask it once in each.
        reasons = {}
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                try:
                    xlsx_inspect(path)
                except UploadRejected as again:
                    reasons[lang] = again.message
        raise FeedFileUnreadable(reasons) from None
    # read_only streams the sheet's XML instead of building every cell in memory.
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = _normalise_header(next(cells, ()) or ())

    def rows():
        try:
            for line, values in enumerate(cells, start=2):
                if not any(v is not None and str(v).strip() for v in values):
                    continue
                yield line, dict(zip(header, values, strict=False))
        finally:
            workbook.close()

    return FeedFile(header=header, rows=rows())


def _both(message, **params) -> dict[str, str]:
    """A lazily translated message rendered in English and in Simplified Chinese."""
    out = {}
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            out[lang] = str(message) % params if params else str(message)
    return out


def csv_text(header: list[str], rows: list[list]) -> bytes:
    """A feed CSV as bytes (tests, benchmarks and the sample download)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()
