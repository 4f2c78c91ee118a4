"""Exports of filtered audit events: CSV and JSON streamed, XLSX written by a worker.

Memory stays flat whatever the size: nothing accumulates, rows pass through in chunks.

CSV on PostgreSQL: the database writes the CSV itself (`COPY (the filtered SELECT, with the
formula escaping and ISO times done in SQL) TO STDOUT`) and the blocks go straight to the
client; a second COPY of just the `hash` column, fed block by block into sha256, gives the
manifest digest without Python touching a row. This keeps the export near COPY's own speed
(bench/bench_audit_export.py) where a row-by-row Python writer was ~10x slower. Elsewhere
(SQLite, JSON, XLSX) rows come from a server-side cursor in chunks and Python formats them.

Every export carries the events' hashes (a column) and a manifest: the filters, first and
last seq, the row count, `rows_sha256` (sha256 over the exported events' hashes, one per
line, in seq order) and the chain head when the export began. `manage.py verify_export FILE`
checks a copy against the database later.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import CharField, F, Func, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.oversight.cells import COLUMNS, FORMAT_VERSION, FORMULA_START, iso_utc
from apps.oversight.selectors import audit_event_list

CHUNK = 5000
MANIFEST_MARK = "#manifest"


@dataclass
class Manifest:
    """Built while rows stream out; `as_dict()` once the last row is written."""

    filters: dict
    exported_by: str
    head_seq: int | None
    head_hash: str | None
    count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    _digest: object = field(default_factory=hashlib.sha256)

    def add_digested(self, *, count: int, first_seq, last_seq, digest) -> None:
        """Results computed outside Python's row loop (the PostgreSQL CSV path)."""
        self.count, self.first_seq, self.last_seq, self._digest = (count, first_seq, last_seq,
                                                                    digest)

    def add(self, seq: int, event_hash: str) -> None:
        if self.first_seq is None:
            self.first_seq = seq
        self.last_seq = seq
        self.count += 1
        self._digest.update(event_hash.encode() + b"\n")

    def as_dict(self) -> dict:
        return {"format": FORMAT_VERSION, "filters": self.filters,
                "exported_by": self.exported_by, "exported_at": iso_utc(timezone.now()),
                "count": self.count, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "rows_sha256": self._digest.hexdigest(),
                "chain_head": {"seq": self.head_seq, "hash": self.head_hash}}


def rows_digest(hashes) -> str:
    digest = hashlib.sha256()
    for event_hash in hashes:
        digest.update(event_hash.encode() + b"\n")
    return digest.hexdigest()


def chain_head() -> tuple[int | None, str | None]:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return head if head else (None, None)


class _UtcText(Func):
    """occurred_at as the same ISO-8601 UTC text Python writes (`iso_utc`), on PostgreSQL."""

    template = ("to_char(%(expressions)s AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')")
    output_field = CharField()


class _SafeText(Func):
    """`cells.safe_text` in SQL: a leading apostrophe before = + - @ TAB CR (PostgreSQL text
    cannot hold NUL, the last of the Python list). The expression is repeated in the SQL, so
    it must be a plain column (no parameters)."""

    template = ("CASE WHEN left(%(expressions)s, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
                "THEN '''' || %(expressions)s ELSE %(expressions)s END")
    output_field = TextField()


def _text(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _plain(value) -> str:
    return "" if value is None else str(value)


def iter_rows(*, viewer, filters: dict) -> Iterator[list[list[str]]]:
    """Chunks of export rows (lists of text cells in COLUMNS order), in seq order.

    `filters` must carry `max_seq` (the chain head when the export began) so the rows are a
    fixed set: the trail is append-only, and later events never join a running export.
    Runs inside a transaction so PostgreSQL keeps a plain (not WITH HOLD) server-side cursor:
    rows stream as the query produces them instead of being copied out first.
    """
    events = audit_event_list(viewer=viewer, filters=filters)
    postgres = connection.vendor == "postgresql"
    if postgres:
        events = events.annotate(_at=_UtcText(F("occurred_at")),
                                 _payload=Cast("payload", TextField()))
        names = ("seq", "_at", "action", "actor_id", "actor__username", "subject_type",
                 "subject_id", "application_id", "enterprise_id", "branch_id", "request_id",
                 "_payload", "prev_hash", "hash")
    else:
        names = ("seq", "occurred_at", "action", "actor_id", "actor__username", "subject_type",
                 "subject_id", "application_id", "enterprise_id", "branch_id", "request_id",
                 "payload", "prev_hash", "hash")
    with transaction.atomic():
        chunk: list[list[str]] = []
        for (seq, at, action, actor_id, username, subject_type, subject_id, application_id,
             enterprise_id, branch_id, request_id, payload, prev_hash, event_hash) in (
                events.values_list(*names).iterator(chunk_size=CHUNK)):
            if not postgres:
                at = iso_utc(at)
                payload = json.dumps(payload, ensure_ascii=False, sort_keys=True)
            chunk.append([str(seq), at, _text(action), _plain(actor_id), _text(username),
                          _text(subject_type), _text(subject_id), _plain(application_id),
                          _plain(enterprise_id), _plain(branch_id), _plain(request_id),
                          payload, prev_hash, event_hash])
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def begin_export(*, viewer, filters: dict) -> tuple[dict, Manifest]:
    """Pin the export to the current chain head and start its manifest."""
    head_seq, head_hash = chain_head()
    pinned = {**filters, "max_seq": head_seq if head_seq is not None else 0}
    manifest = Manifest(filters=dict(filters), exported_by=viewer.get_username(),
                        head_seq=head_seq, head_hash=head_hash)
    return pinned, manifest


def _copy_csv_rows(*, viewer, filters: dict, manifest: Manifest) -> Iterator[str]:
    """PostgreSQL: the rows as CSV written by the database, then the digest from the hashes.

    Both COPYs read the same rows: the filter is pinned to `max_seq` and the table is
    append-only. NULLs come out as empty cells, as in the Python writer.
    """
    events = audit_event_list(viewer=viewer, filters=filters)
    rows = (events.annotate(
        _at=_UtcText(F("occurred_at")), _payload=Cast("payload", TextField()),
        _action=_SafeText(F("action")),
        _user=_SafeText(F("actor__username")),  # NULL stays NULL: an empty cell
        _type=_SafeText(F("subject_type")), _subject=_SafeText(F("subject_id")))
        .values_list("seq", "_at", "_action", "actor_id", "_user", "_type", "_subject",
                     "application_id", "enterprise_id", "branch_id", "request_id", "_payload",
                     "prev_hash", "hash"))
    sql, params = rows.query.sql_with_params()
    hashes_sql, hash_params = events.values_list("hash").query.sql_with_params()
    digest, size = hashlib.sha256(), 0
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        with raw.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            for block in copy:
                yield bytes(block).decode()
        with raw.copy(f"COPY ({hashes_sql}) TO STDOUT", hash_params) as copy:
            for block in copy:
                digest.update(block)
                size += len(block)
    bounds = events.values_list("seq", flat=True)
    manifest.add_digested(count=size // 65, first_seq=bounds.order_by("seq").first(),
                          last_seq=bounds.order_by("-seq").first(), digest=digest)


class _Echo:
    """A file-like object whose write returns the text, for csv.writer over a stream."""

    def write(self, value):
        return value


def stream_csv(*, viewer, filters: dict, manifest: Manifest) -> Iterator[str]:
    """Header, the rows, then a trailer row: `#manifest` and the manifest as JSON."""
    buffer = io.StringIO()
    # The default CRLF terminator also makes the writer quote a lone CR inside a cell; the
    # lines PostgreSQL's COPY writes end in LF, which every CSV reader accepts alike.
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    if connection.vendor == "postgresql":
        yield from _copy_csv_rows(viewer=viewer, filters=filters, manifest=manifest)
        yield csv.writer(_Echo()).writerow(
            [MANIFEST_MARK, json.dumps(manifest.as_dict())])
        return
    for chunk in iter_rows(viewer=viewer, filters=filters):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(chunk)
        for row in chunk:
            manifest.add(int(row[0]), row[-1])
        yield buffer.getvalue()
    yield csv.writer(_Echo()).writerow(
        [MANIFEST_MARK, json.dumps(manifest.as_dict())])


def stream_json(*, viewer, filters: dict, manifest: Manifest) -> Iterator[str]:
    """One JSON document: {"columns", "events": [...], "manifest"}; payloads stay nested JSON
    (the database's own text, embedded as is), everything else as text like the CSV."""
    yield '{"columns":' + json.dumps(COLUMNS) + ',"events":['
    first = True
    payload_at = COLUMNS.index("payload")
    for chunk in iter_rows(viewer=viewer, filters=filters):
        parts = []
        for row in chunk:
            manifest.add(int(row[0]), row[-1])
            fields = [json.dumps(name) + ":" + (value if index == payload_at
                                                else json.dumps(value, ensure_ascii=False))
                      for index, (name, value) in enumerate(zip(COLUMNS, row, strict=True))]
            parts.append("{" + ",".join(fields) + "}")
        text = ",\n".join(parts)
        yield text if first else ",\n" + text
        first = False
    yield '],"manifest":' + json.dumps(manifest.as_dict()) + "}\n"
