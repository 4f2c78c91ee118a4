"""The core-banking feed: repayments, reversals and balance snapshots from the bank's core
system, by file drop (CSV/XLSX) or API, imported whole or refused whole (issue #14).

The core system stays the book of record for balances; what it sends is kept as immutable
events keyed by the core's own record id (`source_record_id`), so every batch can be re-sent:

- the same id with the same figures is a duplicate, counted and skipped;
- the same id with different figures is refused (a correction must come as a reversal);
- any refused row refuses the batch: nothing of it is written, and the `FeedImport` row names
  every refused row by line and reason, in English and Chinese.

An accepted batch is written with COPY, the affected loans' days past due are recomputed in
the same transaction from the first day the batch touched (apps.loans.dpd_store), their
balances follow the latest snapshot, and one audit event records the batch.

Columns (a header row; names are case-insensitive): `source_record_id`, `kind`
(repayment, reversal, balance), `loan_number`, `date` (the value date of a repayment or
reversal, the as-of date of a balance), and per kind: `principal`, `interest` (repayment);
`reverses` (reversal: the record id of the repayment it cancels); `outstanding_principal`,
`overdue_principal`, `overdue_interest` (balance). Amounts in yuan with at most 2 decimals;
dates as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.loans import feed_balances, feed_phases, feed_portable, feed_sql
from apps.loans.dpd_store import copy_rows, dpd_recompute, dpd_recompute_scratch
from apps.loans.feed_phases import phase
from apps.loans.models import FeedImport
from apps.loans.states import LoanState

REPAYMENT, REVERSAL, BALANCE = "repayment", "reversal", "balance"
KINDS = (REPAYMENT, REVERSAL, BALANCE)
REQUIRED_COLUMNS = ("source_record_id", "kind", "loan_number", "date")
KIND_COLUMNS = {
    REPAYMENT: ("principal", "interest"),
    REVERSAL: ("reverses",),
    BALANCE: ("outstanding_principal", "overdue_principal", "overdue_interest"),
}
AMOUNT_COLUMNS = ("principal", "interest", "outstanding_principal", "overdue_principal",
                  "overdue_interest")
# The largest amount a money column holds (18 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("9999999999999999.99")

# Every reason a row can be refused for: stable code → sentence with named placeholders.
REASONS = {
    "missing_columns": _("The header lacks these columns: %(columns)s."),
    "unreadable": _("The file could not be read: %(detail)s"),
    "empty": _("The batch holds no rows."),
    "missing_value": _("%(column)s is empty."),
    "unknown_kind": _("Kind “%(value)s” is not one of repayment, reversal, balance."),
    "malformed_amount": _("%(column)s “%(value)s” is not an amount in yuan with at most "
                          "two decimals."),
    "negative_amount": _("%(column)s is negative (%(value)s)."),
    "zero_repayment": _("A repayment of nothing: principal and interest are both zero."),
    "malformed_date": _("%(column)s “%(value)s” is not a date (YYYY-MM-DD)."),
    "unknown_loan": _("No loan numbered %(loan)s."),
    "before_value_date": _("The date %(date)s is before the loan's value date %(value_date)s."),
    "future_date": _("The date %(date)s is in the future."),
    "id_too_long": _("The record id is longer than 64 characters."),
    "duplicate_different": _("Record %(record)s was already received with different figures."),
    "reversal_unknown": _("Record %(record)s to reverse is not a repayment received before."),
    "reversal_repeated": _("Repayment %(record)s is already reversed."),
    "reversal_other_loan": _("Repayment %(record)s belongs to another loan."),
    "reversal_before_repayment": _("The reversal is dated %(date)s, before the repayment it "
                                   "reverses (%(repaid)s)."),
    "overdue_above_outstanding": _("Overdue principal is more than the outstanding principal."),
}


def reason_texts(code: str, params: dict) -> dict[str, str]:
    """The reason for `code` in English and in Simplified Chinese."""
    texts = {}
    for key, lang in (("reason_en", "en"), ("reason_zh", "zh-hans")):
        with translation.override(lang):
            texts[key] = str(REASONS[code]) % params
    return texts


def reason_text(error: dict) -> str:
    """A stored refusal in the active language (rendered anew, so a catalogue added later
    is used; the stored texts are the fallback for a code no longer known)."""
    if error.get("code") in REASONS:
        return str(REASONS[error["code"]]) % error.get("params", {})
    return error.get("reason_en", "")


class FeedPermissionDenied(PermissionDenied):
    pass


def array_threshold() -> int:
    """From how many touched loans an import recomputes with the array engine."""
    return getattr(settings, "LOANS_FEED_ARRAY_THRESHOLD", 200)


def may_import_feed(user) -> bool:
    """Loan operations officers and administrators import the core feed; None is the system
    (the file-drop command run by the operator of the machine)."""
    return user is None or (user.is_authenticated and user.has_role(Role.LOAN_OPERATIONS,
                                                                    Role.ADMIN))


def on_loan_paid_off(*, loan_id: int, actor) -> None:
    """Called, inside the import's transaction, for each active loan whose outstanding
    principal the core has just reported as 0: the loan note is settled through its own
    transition (`loan_settle`: actor, audit event, idempotent)."""
    from apps.loans.services.lifecycle import loan_settle

    loan_settle(loan_id=loan_id, actor=actor,
                reason=str(_("Repaid in full (core-banking feed).")))


@dataclass
class Refusal:
    line: int
    field: str
    code: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "code": self.code,
                "params": {k: str(v) for k, v in self.params.items()},
                **reason_texts(self.code, self.params)}


@dataclass(slots=True)
class Record:
    """One well-formed row of the batch."""

    line: int
    record_id: str
    kind: str
    loan_number: str
    day: dt.date
    amounts: dict
    reverses: str = ""


@dataclass
class Outcome:
    feed_import: FeedImport
    loans_recomputed: int = 0


_DATE_FORMATS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
                 re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
                 re.compile(r"^(\d{4})(\d{2})(\d{2})$"))
_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")


def _text(value) -> str:
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 1001.0 record id is 1001
    return str(value).strip()


def _date(value) -> dt.date | None:
    if value.__class__ is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:  # the usual YYYY-MM-DD, parsed in C
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for pattern in _DATE_FORMATS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*map(int, match.groups()))
            except ValueError:
                return None
    return None


NEGATIVE = object()  # what _amount returns for a negative figure


def _amount(value):
    """A Decimal, None when malformed, or NEGATIVE."""
    if isinstance(value, float):
        value = repr(value)  # openpyxl numbers: the shortest repr is what the cell showed
    text = _text(value).replace(",", "")
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not _AMOUNT.match(digits):
        return None
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        return None
    if amount > MAX_AMOUNT:
        return None
    if negative and amount != 0:
        return NEGATIVE
    return amount


def _parse_row(line: int, row: dict, refusals: list[Refusal]) -> Record | None:
    """A Record from a row's cells, or None with the row's problems added to `refusals`."""
    found = len(refusals)
    record_id, kind = _text(row.get("source_record_id")), _text(row.get("kind")).lower()
    loan_number = _text(row.get("loan_number"))
    for column, value in (("source_record_id", record_id), ("kind", kind),
                          ("loan_number", loan_number)):
        if not value and not (column == "loan_number" and kind == REVERSAL):
            refusals.append(Refusal(line, column, "missing_value", {"column": column}))
    if len(record_id) > 64:
        refusals.append(Refusal(line, "source_record_id", "id_too_long"))
    if kind and kind not in KINDS:
        refusals.append(Refusal(line, "kind", "unknown_kind", {"value": kind}))
    day = _date(row.get("date"))
    if day is None:
        raw = _text(row.get("date"))
        refusals.append(Refusal(line, "date", "malformed_date", {"column": "date", "value": raw})
                        if raw else Refusal(line, "date", "missing_value", {"column": "date"}))
    amounts, reverses = {}, ""
    for column in KIND_COLUMNS.get(kind, ()):
        if column == "reverses":
            reverses = _text(row.get(column))
            if not reverses:
                refusals.append(Refusal(line, column, "missing_value", {"column": column}))
            continue
        raw = row.get(column)
        if _text(raw) == "":
            if kind == REPAYMENT or column == "outstanding_principal":
                refusals.append(Refusal(line, column, "missing_value", {"column": column}))
                continue
            raw = "0"  # a balance row may leave the overdue amounts empty: nothing overdue
        amount = _amount(raw)
        if amount is None:
            refusals.append(Refusal(line, column, "malformed_amount",
                                    {"column": column, "value": _text(raw)}))
        elif amount is NEGATIVE:
            refusals.append(Refusal(line, column, "negative_amount",
                                    {"column": column, "value": _text(raw)}))
        else:
            amounts[column] = amount
    if len(refusals) > found:
        return None
    if kind == REPAYMENT and amounts["principal"] == 0 and amounts["interest"] == 0:
        refusals.append(Refusal(line, "principal", "zero_repayment"))
        return None
    if kind == BALANCE and amounts["overdue_principal"] > amounts["outstanding_principal"]:
        refusals.append(Refusal(line, "overdue_principal", "overdue_above_outstanding"))
        return None
    return Record(line, record_id, kind, loan_number, day, amounts, reverses)


class _Known:
    """What the database already holds for the batch's loans and record ids: a few queries
    whatever the batch size. The ids go in by COPY into a temporary table (100,000 ids exceed
    a query's parameters, and an array literal that size is slow to build)."""

    def __init__(self, records: list[Record], actor):
        ids = {r.record_id for r in records} | {r.reverses for r in records if r.reverses}
        branches = visible_branch_ids(viewer=actor) if actor is not None else None
        if connection.vendor != "postgresql":
            self._portable(records, ids, branches)
            return
        _temp_keys("loans_feed_ids", ids)
        self.events = {}
        for rid, pk, kind, loan_id, number, day, p, i, reverses in _fetch(
                """SELECT e.source_record_id, e.id, e.kind, e.loan_id, l.loan_number,
                          e.value_date, e.principal, e.interest, t.source_record_id
                     FROM loans_feed_ids k
                     JOIN loans_repaymentevent e ON e.source_record_id = k.key
                     JOIN loans_loan l ON l.id = e.loan_id
                     LEFT JOIN loans_repaymentevent t ON t.id = e.reverses_id""", []):
            self.events[rid] = (pk, kind, loan_id, number, day, p, i, reverses or "")
        self.reversed = {rid for (rid,) in _fetch(
            """SELECT t.source_record_id FROM loans_feed_ids k
                 JOIN loans_repaymentevent t ON t.source_record_id = k.key
                 JOIN loans_repaymentevent e ON e.reverses_id = t.id""", [])}
        self.balances = {rid: (number, as_of, o, op, oi) for rid, number, as_of, o, op, oi in
                         _fetch("""SELECT b.source_record_id, l.loan_number, b.as_of,
                                          b.outstanding_principal, b.overdue_principal,
                                          b.overdue_interest
                                     FROM loans_feed_ids k
                                     JOIN loans_balancesnapshot b ON b.source_record_id = k.key
                                     JOIN loans_loan l ON l.id = b.loan_id""", [])}
        # Reversals may name no loan: theirs is the stored repayment's.
        numbers = {r.loan_number for r in records if r.loan_number} | {
            e[3] for e in self.events.values()}
        _temp_keys("loans_feed_numbers", numbers)
        # A loan the importer may not see is an unknown loan to them (404, not 403).
        self.loans = {n: (pk, value_date, state) for n, pk, value_date, state in _fetch(
            """SELECT l.loan_number, l.id, l.value_date, l.state FROM loans_feed_numbers k
                 JOIN loans_loan l ON l.loan_number = k.key
                WHERE %s OR l.branch_id = ANY(%s)""",
            [branches is None, list(branches or ())])}

    def _portable(self, records: list[Record], ids: set[str], branches) -> None:
        """The same reads on any other database (apps.loans.feed_portable)."""
        self.events = feed_portable.stored_events(ids)
        self.reversed = feed_portable.reversed_ids(ids)
        self.balances = feed_portable.stored_balances(ids)
        numbers = {r.loan_number for r in records if r.loan_number} | {
            e[3] for e in self.events.values()}
        self.loans = feed_portable.visible_loans(numbers, branches)


def _temp_keys(table: str, keys) -> None:
    """A temporary one-column table of `keys`, for this transaction only."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (key text PRIMARY KEY) "
                       "ON COMMIT DROP")
        cursor.execute(f"TRUNCATE {table}")
        copy_rows(cursor, table, ("key",), ((k,) for k in keys))
        cursor.execute(f"ANALYZE {table}")


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _stored_figures(known: _Known, record_id: str):
    """The stored record with this id in the shape `_figures` gives a new one (or None)."""
    if record_id in known.events:
        _pk, kind, _loan, number, day, p, i, reverses = known.events[record_id]
        if kind == REVERSAL:
            return (REVERSAL, number, day, reverses)
        return (REPAYMENT, number, day, p, i)
    if record_id in known.balances:
        number, as_of, o, op, oi = known.balances[record_id]
        return (BALANCE, number, as_of, o, op, oi)
    return None


def _figures(record: Record, loan_number: str):
    a = record.amounts
    if record.kind == REVERSAL:
        return (REVERSAL, loan_number, record.day, record.reverses)
    if record.kind == REPAYMENT:
        return (REPAYMENT, loan_number, record.day, a["principal"], a["interest"])
    return (BALANCE, loan_number, record.day, a["outstanding_principal"],
            a["overdue_principal"], a["overdue_interest"])


def _check(records: list[Record], known: _Known, today: dt.date,
           refusals: list[Refusal]) -> list[Record]:
    """The batch's business rules, row by row in file order; returns the rows to write."""
    new: list[Record] = []
    in_batch: dict[str, tuple] = {}  # record id → figures, for rows earlier in the batch
    repayments_in_batch: dict[str, Record] = {}
    reversed_in_batch: set[str] = set()
    for record in records:
        line = record.line
        # A reversal's loan is the reversed repayment's; a loan number given must agree.
        target = None
        if record.kind == REVERSAL:
            target = repayments_in_batch.get(record.reverses)
            stored = known.events.get(record.reverses)
            if target is None and (stored is None or stored[1] != REPAYMENT):
                refusals.append(Refusal(line, "reverses", "reversal_unknown",
                                        {"record": record.reverses}))
                continue
            target_loan = target.loan_number if target else stored[3]
            target_day = target.day if target else stored[4]
            if record.loan_number and record.loan_number != target_loan:
                refusals.append(Refusal(line, "reverses", "reversal_other_loan",
                                        {"record": record.reverses}))
                continue
            record.loan_number = target_loan
        loan = known.loans.get(record.loan_number)
        if loan is None:
            refusals.append(Refusal(line, "loan_number", "unknown_loan",
                                    {"loan": record.loan_number}))
            continue
        figures = _figures(record, record.loan_number)
        previous = in_batch.get(record.record_id) or _stored_figures(known, record.record_id)
        if previous is not None:
            if previous != figures:
                refusals.append(Refusal(line, "source_record_id", "duplicate_different",
                                        {"record": record.record_id}))
            continue  # same figures: a duplicate, counted by the caller
        if record.day > today:
            refusals.append(Refusal(line, "date", "future_date", {"date": record.day}))
            continue
        if record.day < loan[1]:
            refusals.append(Refusal(line, "date", "before_value_date",
                                    {"date": record.day, "value_date": loan[1]}))
            continue
        if record.kind == REVERSAL:
            if record.reverses in known.reversed or record.reverses in reversed_in_batch:
                refusals.append(Refusal(line, "reverses", "reversal_repeated",
                                        {"record": record.reverses}))
                continue
            if record.day < target_day:
                refusals.append(Refusal(line, "date", "reversal_before_repayment",
                                        {"date": record.day, "repaid": target_day}))
                continue
            reversed_in_batch.add(record.reverses)
        elif record.kind == REPAYMENT:
            repayments_in_batch[record.record_id] = record
        in_batch[record.record_id] = figures
        new.append(record)
    return new


def _write(records: list[Record], known: _Known, batch: FeedImport) -> dict[int, dt.date]:
    """COPY the new rows; returns {loan id: first day touched} for the DPD recomputation."""
    now = timezone.now()
    touched: dict[int, dt.date] = {}

    def touch(loan_id: int, day: dt.date) -> None:
        touched[loan_id] = min(day, touched.get(loan_id, day))

    repayments = [r for r in records if r.kind == REPAYMENT]
    reversals = [r for r in records if r.kind == REVERSAL]
    balances = [r for r in records if r.kind == BALANCE]
    with connection.cursor() as cursor:
        rows = []
        for r in repayments:
            loan_id = known.loans[r.loan_number][0]
            touch(loan_id, r.day)
            rows.append((loan_id, r.record_id, REPAYMENT, r.day, r.amounts["principal"],
                         r.amounts["interest"], batch.pk, now))
        copy_rows(cursor, "loans_repaymentevent", (
            "loan_id", "source_record_id", "kind", "value_date", "principal", "interest",
            "feed_import_id", "received_at"), rows)
        if reversals:
            # The reversed repayments' ids and value dates (some were written just above).
            if connection.vendor == "postgresql":
                targets = {rid: (pk, day) for rid, pk, day in _fetch(
                    "SELECT source_record_id, id, value_date FROM loans_repaymentevent "
                    "WHERE source_record_id = ANY(%s)", [[r.reverses for r in reversals]])}
            else:
                targets = feed_portable.event_ids(r.reverses for r in reversals)
            rows = []
            for r in reversals:
                loan_id = known.loans[r.loan_number][0]
                target_pk, target_day = targets[r.reverses]
                # The repayment never counted: the arrears change from its value date.
                touch(loan_id, target_day)
                rows.append((loan_id, r.record_id, REVERSAL, r.day, 0, 0, target_pk, batch.pk,
                             now))
            copy_rows(cursor, "loans_repaymentevent", (
                "loan_id", "source_record_id", "kind", "value_date", "principal", "interest",
                "reverses_id", "feed_import_id", "received_at"), rows)
        if balances:
            rows = [(known.loans[r.loan_number][0], r.record_id, r.day,
                     r.amounts["outstanding_principal"], r.amounts["overdue_principal"],
                     r.amounts["overdue_interest"], batch.pk) for r in balances]
            copy_rows(cursor, "loans_balancesnapshot", (
                "loan_id", "source_record_id", "as_of", "outstanding_principal",
                "overdue_principal", "overdue_interest", "feed_import_id"), rows)
    return touched


def _apply_balances(loan_ids: list[int], actor) -> list[int]:
    """Loans take the figures of their latest balance snapshot when it is at least as recent
    as what they carry; returns the active loans the core now reports as paid off."""
    if not loan_ids:
        return []
    if connection.vendor != "postgresql":
        return feed_portable.apply_balances(loan_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH latest AS (
                   SELECT DISTINCT ON (loan_id) loan_id, as_of, outstanding_principal,
                          overdue_principal, overdue_interest
                     FROM loans_balancesnapshot WHERE loan_id = ANY(%s)
                    ORDER BY loan_id, as_of DESC, id DESC)
               UPDATE loans_loan l
                  SET outstanding_principal = latest.outstanding_principal,
                      overdue_principal = latest.overdue_principal,
                      overdue_interest = latest.overdue_interest,
                      balance_as_of = latest.as_of, updated_at = now()
                 FROM latest
                WHERE l.id = latest.loan_id
                  AND (l.balance_as_of IS NULL OR l.balance_as_of <= latest.as_of)
            RETURNING l.id, l.outstanding_principal, l.state""", [loan_ids])
        return [pk for pk, outstanding, state in cursor.fetchall()
                if outstanding == 0 and state == LoanState.ACTIVE]


def set_based() -> bool:
    """Whether imports take the set-based path (apps.loans.feed_sql): on PostgreSQL, unless
    `LOANS_FEED_SET_BASED` is off (the tests run both paths on the same batches)."""
    return connection.vendor == "postgresql" and getattr(settings, "LOANS_FEED_SET_BASED", True)


def feed_import(*, header: list[str], rows: Iterable[tuple[int, dict]] = (), source: str,
                cells: Iterable[tuple[int, list]] | None = None, csv_file=None,
                filename: str = "", sha256: str = "", actor=None,
                today: dt.date | None = None, unreadable: dict | None = None) -> Outcome:
    """Import one batch from the core system: every row, or none of them.

    `rows` are (line, {column: cell}) as read from a workbook or the API body; or `cells`,
    (line, [cell per header column]) as a CSV reader gives them, with `csv_file` (path and
    encoding) when the file itself may be COPYed. Refused batches
    are recorded (`FeedImport` with outcome refused and every refused row) and audited
    `loan_feed.refused`; accepted ones write their new rows, recompute the affected loans'
    days past due from the first day they touch, apply the latest balances, and are audited
    `loan_feed.imported`. Who: loan operations officers, administrators, or the system.
    """
    if not may_import_feed(actor):
        raise FeedPermissionDenied(_("Only loan operations officers and administrators may "
                                     "import the core-banking feed."))
    today = today or timezone.localdate()
    # Hundreds of thousands of small objects stay alive until the batch is decided; the
    # cyclic collector would rescan them again and again (none of them form cycles).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with transaction.atomic():
            outcome = _feed_import(header=header, rows=rows, cells=cells, csv_file=csv_file,
                                   source=source, filename=filename, sha256=sha256,
                                   actor=actor, today=today, unreadable=unreadable)
            committing = time.perf_counter()
        feed_phases.add("commit", time.perf_counter() - committing)
        return outcome
    finally:
        if gc_was_enabled:
            gc.enable()


def _feed_import(*, header, rows, cells, csv_file, source, filename, sha256, actor, today,
                 unreadable):
    if connection.vendor != "postgresql":
        feed_portable.take_write_lock()
    refusals: list[Refusal] = []
    records: list[Record] = []
    total = 0
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    batch = FeedImport(source=source, filename=filename[:255], sha256=sha256,
                       imported_by=actor if actor is not None else None)
    if unreadable:
        refusals.append(Refusal(1, "", "unreadable", {"detail": unreadable.get("en", "")}))
    elif missing:
        refusals.append(Refusal(1, "", "missing_columns", {"columns": ", ".join(missing)}))
    elif set_based():
        # CSV is staged in the file's own columns; workbook and API rows in the known ones.
        staged_as = (header if cells is not None or csv_file is not None
                     else list(feed_sql.COLUMNS))
        with phase("stage"):
            feed_sql.stage_create(staged_as)
            total = None
            if csv_file is not None:
                total = feed_sql.stage_file(csv_file.path, csv_file.encoding, header)
            if total is not None:
                cells = None  # staged straight from the file: the reader is not needed
            elif cells is not None:
                total = feed_sql.stage_cells(header, cells)
            else:
                total = feed_sql.stage_rows(rows)
        if total:
            kinds = [k for k in KINDS if all(c in header for c in KIND_COLUMNS[k])]
            branches = visible_branch_ids(viewer=actor) if actor is not None else None
            with phase("check"):
                checked = feed_sql.check(header=staged_as, kinds=kinds, branches=branches,
                                         today=today)
            if checked is not None and not checked[0]:
                try:
                    with transaction.atomic():
                        return _accept_set_based(batch, total=total, new=checked[1],
                                                 actor=actor, today=today)
                except IntegrityError:  # a record id twice in the batch
                    batch = FeedImport(source=source, filename=filename[:255], sha256=sha256,
                                       imported_by=actor if actor is not None else None)
        # Not plainly good: the reference engine decides, over the rows as staged.
        rows, cells, total = feed_sql.staged_rows(staged_as), None, 0
    if cells is not None:
        rows = ((line, dict(zip(header, values, strict=False))) for line, values in cells)
    if not refusals:
        with phase("parse"):
            total = _parse_all(header, rows, refusals, records, total)
    with phase("rules"):
        known = _Known(records, actor) if records else None
        new = _check(records, known, today, refusals) if records else []
    batch.rows_total = total
    if refusals:
        refusals.sort(key=lambda r: r.line)
        batch.outcome = FeedImport.Outcome.REFUSED
        batch.errors = [r.as_dict() for r in refusals]
        batch.save()
        audit_record(action="loan_feed.refused", actor=actor, subject=batch,
                     payload={"source": source, "filename": batch.filename, "sha256": sha256,
                              "rows": total, "refused_rows": len({r.line for r in refusals})})
        return Outcome(batch)
    batch.outcome = FeedImport.Outcome.ACCEPTED
    batch.rows_new, batch.rows_duplicate = len(new), total - len(new)
    batch.save()
    loan_ids = sorted({known.loans[r.loan_number][0] for r in new})
    with phase("lock"):
        _lock_loans(loan_ids)
    with phase("insert"):
        touched = _write(new, known, batch)
    balance_loans = sorted({known.loans[r.loan_number][0] for r in new if r.kind == BALANCE})
    return _finish(batch, loan_ids=loan_ids, touched=touched, balance_loans=balance_loans,
                   actor=actor, today=today)


def _parse_all(header: list[str], rows, refusals: list[Refusal], records: list[Record],
               total: int) -> int:
    """Parse every row into `records` or `refusals`; returns the rows counted."""
    kinds_missing: dict[str, int] = {}
    for line, row in rows:
        total += 1
        kind = _text(row.get("kind")).lower()
        absent = [c for c in KIND_COLUMNS.get(kind, ()) if c not in header]
        if absent:
            kinds_missing.setdefault(", ".join(absent), line)
            continue
        record = _parse_row(line, row, refusals)
        if record is not None:
            records.append(record)
    for columns in kinds_missing:
        refusals.insert(0, Refusal(1, "", "missing_columns", {"columns": columns}))
    if total == 0 and not refusals:
        refusals.append(Refusal(1, "", "empty"))
    return total


def _accept_set_based(batch: FeedImport, *, total: int, new: int, actor,
                      today: dt.date) -> Outcome:
    """A batch the set-based check passed whole: written from the checked stage."""
    batch.rows_total, batch.rows_new, batch.rows_duplicate = total, new, total - new
    batch.outcome = FeedImport.Outcome.ACCEPTED
    batch.save()
    with phase("lock"):
        rows = feed_sql.NewRows()
        _lock_loans(rows.loans)
    with phase("insert"):
        feed_sql.write(batch_id=batch.pk, now=timezone.now(), new=rows)
    return _finish(batch, loan_ids=rows.loans, touched=rows.touched,
                   balance_loans=rows.balance_loans, actor=actor, today=today)


def _lock_loans(loan_ids: list[int]) -> None:
    """Lock the touched loans (in id order, so two imports cannot deadlock) before writing.
    SQLite has no row locks: there the import holds the database's write lock throughout
    (`feed_portable.take_write_lock`)."""
    if loan_ids and connection.vendor == "postgresql":
        _fetch("SELECT id FROM loans_loan WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
               [loan_ids])


def _check_foreign_keys(name: str) -> None:
    """Run the foreign-key checks queued so far (one lookup per written row) now rather
    than at commit: their cost shows as a phase of its own, and a violation fails the import
    rather than its commit. Checked before the loans' rows are updated, each lookup finds
    the loan row as it was locked, not a new version the same transaction wrote (which
    measured 3x slower per row). Deferred again for whatever the caller does next."""
    if connection.vendor != "postgresql":
        return
    with phase(name), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _finish(batch: FeedImport, *, loan_ids: list[int], touched: dict[int, dt.date],
            balance_loans: list[int], actor, today: dt.date) -> Outcome:
    """After an accepted batch's rows are written: balances, days past due, audit, paid-off
    loans settled."""
    total, new = batch.rows_total, batch.rows_new
    source, sha256 = batch.source, batch.sha256
    if new:
        _check_foreign_keys("foreign keys")
    # No ANALYZE of the event and snapshot tables here (it was 3% of a 100,000-row import):
    # what this transaction still reads of them is by `loan_id = ANY(ids)` (the balances to
    # apply, the DPD reads of apps.loans.dpd_pg) and the joins after it go to temporary
    # tables analysed where they are built, so stale statistics choose between an index scan
    # and a sequential one, never a nested loop over the batch (measured with statistics
    # taken at 50 rows: same plans' costs, same figures). Autovacuum analyses after commit.
    if len(loan_ids) >= array_threshold() and connection.vendor == "postgresql":
        # A big file: the array engine over the touched loans, from scratch; it rewrites
        # each history from its first changed day, which is what the incremental path
        # gives (the property in tests/test_dpd.py and tests/test_dpd_batch.py). The
        # balances go into the same UPDATE as the figures (apps.loans.feed_balances).
        with phase("balances"):
            paid_off = feed_balances.stage(balance_loans)
        with phase("dpd"):
            result = dpd_recompute_scratch(loan_ids=loan_ids, as_of=today,
                                           balances=feed_balances.TABLE)
        with phase("balances"):
            feed_balances.apply_rest(result.updated)
    else:
        with phase("balances"):
            paid_off = _apply_balances(balance_loans, actor)
        with phase("dpd"):
            if len(loan_ids) >= array_threshold():
                result = dpd_recompute_scratch(loan_ids=loan_ids, as_of=today)
            else:
                result = dpd_recompute(loan_ids=loan_ids, as_of=today,
                                       first_affected=touched)
    with phase("audit"):
        audit_record(action="loan_feed.imported", actor=actor, subject=batch, payload={
            "source": source, "filename": batch.filename, "sha256": sha256, "rows": total,
            "new": new, "duplicates": total - new, "loans": len(loan_ids),
            "dpd_loans_changed": result.loans_changed, "paid_off": paid_off[:1000]})
    with phase("settle"):
        for loan_id in paid_off:
            on_loan_paid_off(loan_id=loan_id, actor=actor)
    if new:
        _check_foreign_keys("foreign keys (dpd)")
    return Outcome(batch, loans_recomputed=len(loan_ids))
