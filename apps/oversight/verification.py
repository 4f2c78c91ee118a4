"""Checking an exported copy against the database (`manage.py verify_export FILE`).

A copy is trusted when: its rows' hashes give the manifest's `rows_sha256`, count and seq
range; every row equals the database's event of that seq (all columns, payload as JSON); each
such event still hashes to its stored hash (the database was not altered since); the export's
filters, re-run up to the manifest's chain head, select exactly the rows in the copy (nothing
removed or added); and the chain head named in the manifest is still in the chain.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apps.audit.chain import hash_of
from apps.audit.models import AuditEvent
from apps.oversight.cells import COLUMNS, HASH_INDEX, cells_match, event_cells
from apps.oversight.exports import MANIFEST_MARK, rows_digest
from apps.oversight.selectors import audit_events_matching

BATCH = 2000
MAX_PROBLEMS = 20


@dataclass
class ExportCheck:
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def _read_csv(path: Path) -> tuple[Iterator[list[str]], dict]:
    """Rows lazily; the manifest is the last line, found by a first pass over the file."""
    csv.field_size_limit(sys.maxsize)
    manifest = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row and row[0] == MANIFEST_MARK:
                manifest = json.loads(row[1])

    def rows():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header != list(COLUMNS):
                raise ValueError("not a Credence audit export: unexpected header")
            for row in reader:
                if row and row[0] != MANIFEST_MARK:
                    yield row
    return rows(), manifest


def _read_json(path: Path) -> tuple[Iterator[list[str]], dict]:
    document = json.loads(path.read_text(encoding="utf-8"))
    columns = document.get("columns")
    if columns != list(COLUMNS):
        raise ValueError("not a Credence audit export: unexpected columns")
    rows = ([json.dumps(event.get(name), ensure_ascii=False) if name == "payload"
             else (event.get(name) or "") for name in COLUMNS]
            for event in document.get("events", []))
    return rows, document.get("manifest") or {}


def _read_xlsx(path: Path) -> tuple[Iterator[list[str]], dict]:
    from openpyxl import load_workbook

    from apps.oversight.xlsx import MANIFEST_SHEET

    book = load_workbook(path, read_only=True)
    manifest = {}
    for key, value in book[MANIFEST_SHEET].iter_rows(values_only=True):
        manifest[key] = json.loads(value) if key in ("filters", "chain_head") else value

    def rows():
        sheet = book["events"].iter_rows(values_only=True)
        header = next(sheet, None)
        if list(header or ()) != list(COLUMNS):
            raise ValueError("not a Credence audit export: unexpected header")
        for row in sheet:
            yield ["" if value is None else str(value) for value in row]
    return rows(), manifest


READERS = {".csv": _read_csv, ".json": _read_json, ".xlsx": _read_xlsx}


def _batches(rows: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _as_stored_in_xlsx(cells: list[str]) -> list[str]:
    """What an XLSX cell reads back as: XML turns CR into LF, and the writer replaced the
    control characters XML refuses; both sides are compared in that form."""
    from apps.oversight.xlsx import _cell

    return [_cell(value).replace("\r\n", "\n").replace("\r", "\n") for value in cells]


def verify_export_file(path: Path) -> ExportCheck:
    """Check an export file against the database; problems name the seq they concern."""
    check = ExportCheck()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        check.problem(f"unknown export format {path.suffix!r} (csv, json or xlsx)")
        return check
    rows, manifest = reader(path)
    xlsx = path.suffix.lower() == ".xlsx"
    check.manifest = manifest
    if not manifest:
        check.problem("the manifest is missing")
        return check
    head = manifest.get("chain_head") or {}
    filters = {**(manifest.get("filters") or {}), "max_seq": head.get("seq") or 0}
    expected = (audit_events_matching(filters=filters)
                .values_list("seq", flat=True).iterator(chunk_size=BATCH))
    hashes, seqs = [], []
    for batch in _batches(rows):
        try:
            numbers = [int(row[0]) for row in batch]
        except (ValueError, IndexError):
            check.problem("a row has no valid seq")
            return check
        stored = {e.seq: e for e in AuditEvent.objects.select_related("actor")
                  .filter(seq__in=numbers)}
        for number, row in zip(numbers, batch, strict=True):
            check.rows += 1
            seqs.append(number)
            hashes.append(row[HASH_INDEX] if len(row) > HASH_INDEX else "")
            event = stored.get(number)
            if event is None:
                check.problem(f"event {number}: not in the database (deleted?)")
                continue
            if hash_of(event) != event.hash:
                check.problem(f"event {number}: the database row no longer matches its hash")
            expected_cells = event_cells(event)
            if xlsx:
                row, expected_cells = _as_stored_in_xlsx(row), _as_stored_in_xlsx(expected_cells)
            differing = cells_match(row, expected_cells)
            if differing:
                check.problem(f"event {number}: the copy differs from the database in "
                              f"{', '.join(differing)}")
        # Compare with what the filters select, a batch at a time (memory stays flat).
        for number in numbers:
            wanted = next(expected, None)
            if wanted != number:
                check.problem(f"event {wanted if wanted is not None else number}: the copy's "
                              f"rows are not those the export's filters select "
                              f"(expected {wanted}, found {number})")
                return check
    leftover = next(expected, None)
    if leftover is not None:
        check.problem(f"event {leftover}: selected by the export's filters but missing from "
                      "the copy")
    if manifest.get("count") != check.rows:
        check.problem(f"the manifest counts {manifest.get('count')} rows, the copy has "
                      f"{check.rows}")
    if seqs and (manifest.get("first_seq"), manifest.get("last_seq")) != (seqs[0], seqs[-1]):
        check.problem("the manifest's first/last seq do not match the rows")
    if manifest.get("rows_sha256") != rows_digest(hashes):
        check.problem("the rows' digest does not match the manifest (rows changed, added or "
                      "removed)")
    if head.get("seq") is not None:
        stored_head = (AuditEvent.objects.filter(seq=head["seq"])
                       .values_list("hash", flat=True).first())
        if stored_head != head.get("hash"):
            check.problem(f"event {head['seq']}: the chain head named in the manifest is no "
                          "longer in the chain")
    return check
