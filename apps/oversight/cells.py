"""How one audit event becomes a row of an export, shared by every writer and the verifier.

Spreadsheet programs run a cell that starts with = + - @ (or a tab, CR, NUL that hides one)
as a formula: a business named '=HYPERLINK(…)' must reach the auditor as text (OWASP CSV
injection; ASVS 5.3.x). Such text cells get a leading apostrophe, in CSV and XLSX alike.
"""

import datetime as dt
import json

COLUMNS = ("seq", "occurred_at", "action", "actor_id", "actor", "subject_type", "subject_id",
           "application_id", "enterprise_id", "branch_id", "request_id", "payload",
           "prev_hash", "hash")
HASH_INDEX = COLUMNS.index("hash")
PAYLOAD_INDEX = COLUMNS.index("payload")
FORMAT_VERSION = "credence-audit-export/1"

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_text(value) -> str:
    """Text for a spreadsheet cell: formula starters neutralised with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_cells(event) -> list[str]:
    """The export row of an AuditEvent instance (actor loaded), as text cells."""
    actor = event.actor.username if event.actor_id and event.actor else ""
    return [str(event.seq), iso_utc(event.occurred_at), safe_text(event.action),
            "" if event.actor_id is None else str(event.actor_id), safe_text(actor),
            safe_text(event.subject_type), safe_text(event.subject_id),
            _int_text(event.application_id), _int_text(event.enterprise_id),
            _int_text(event.branch_id),
            "" if event.request_id is None else str(event.request_id),
            json.dumps(event.payload, ensure_ascii=False, sort_keys=True),
            event.prev_hash, event.hash]


def _int_text(value) -> str:
    return "" if value is None else str(value)


def cells_match(file_cells: list[str], db_cells: list[str]) -> list[str]:
    """Names of the columns where a file row differs from the database's row; payloads are
    compared as JSON values (the database may print keys in another order)."""
    differing = []
    for index, name in enumerate(COLUMNS):
        mine, theirs = file_cells[index] if index < len(file_cells) else None, db_cells[index]
        if index == PAYLOAD_INDEX:
            try:
                same = json.loads(mine) == json.loads(theirs)
            except (TypeError, ValueError):
                same = False
        else:
            same = (mine or "") == theirs
        if not same:
            differing.append(name)
    return differing
