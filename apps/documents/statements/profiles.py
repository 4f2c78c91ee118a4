"""A proposed column mapping confirmed by a person becomes the bank's ColumnProfile.

The officer or reviewer confirms once, on a real file: the header texts of the mapped columns
become the profile's aliases, so the next export of that bank matches it without anyone
asking. Each confirmation for a bank is a new version (the previous one retired, kept for the
record), audited against the document's application and branch, and the document's checks run
again with it — in one transaction, the check's work recorded as the re-check records it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError
from apps.core.fsm import transition_check
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.documents.checks.tables import TableUnreadable, read_rows
from apps.documents.models import ColumnProfile, Document, DocumentCheck
from apps.documents.selectors import document_get
from apps.documents.statements.infer import (
    LEXICON,
    TAX_LEXICON,
    UTILITY_LEXICON,
    ProposedMapping,
    infer_series,
    infer_statement,
)
from apps.documents.statements.read import balance_continuity, transactions
from apps.documents.states import CHECK_DONE, CheckKind, RecordKind

KIND_BY_CHECK = {CheckKind.BANK_STATEMENT: RecordKind.BANK_STATEMENT,
                 CheckKind.TAX_RECORD: RecordKind.TAX_RECORD,
                 CheckKind.UTILITY_BILL: RecordKind.UTILITY_BILL}
FIELDS = {RecordKind.BANK_STATEMENT: tuple(LEXICON), RecordKind.TAX_RECORD: tuple(TAX_LEXICON),
          RecordKind.UTILITY_BILL: tuple(UTILITY_LEXICON)}


def _infer(kind: str, rows: list[list]) -> ProposedMapping | None:
    if kind == RecordKind.BANK_STATEMENT:
        return infer_statement(rows)
    from apps.investigations.policy import PolicyResolver

    # the tax record's arithmetic proves columns found by content, as in the check
    return infer_series(rows, str(kind), PolicyResolver())


class MappingInvalid(DomainError):
    code = "column_mapping_invalid"


def _record_kind(document: Document) -> str:
    kinds = set(document.checks.values_list("kind", flat=True))
    for check_kind, record_kind in KIND_BY_CHECK.items():
        if check_kind in kinds:
            return record_kind
    raise MappingInvalid(_("This document has no statement or tax-record check to map."))


def _rows(document: Document) -> list[list]:
    from apps.documents.services import document_local_copy

    try:
        with document_local_copy(document) as path:
            return read_rows(path, document.detected_format)
    except TableUnreadable as exc:
        raise MappingInvalid(_("The file has no table that can be read.")) from exc


def proposal_for(document: Document) -> tuple[str, ProposedMapping | None, list[list]]:
    """(record kind, the reader's proposal, the first rows) for the confirmation page/API."""
    kind = _record_kind(document)
    rows = _rows(document)
    proposal = _infer(kind, rows)
    return kind, proposal, rows


def _validate(kind: str, columns: dict, rows: list[list], proposal: ProposedMapping | None,
              date_format: str | None) -> ProposedMapping:
    if proposal is None or proposal.header_row is None:
        raise MappingInvalid(_("No header row was found: a profile is made of the bank's "
                               "column headers."))
    width = len(rows[proposal.header_row])
    allowed = FIELDS[kind]
    if not isinstance(columns, dict) or any(
            f not in allowed or not isinstance(i, int) or not 0 <= i < width
            for f, i in columns.items()):
        raise MappingInvalid(_("Map fields to columns of the header row."),
                             fields={"columns": [_("Fields: %(fields)s; columns 0 to %(last)s.")
                                                 % {"fields": ", ".join(allowed),
                                                    "last": width - 1}]})
    if len(set(columns.values())) != len(columns):
        raise MappingInvalid(_("Each column can hold one field only."),
                             fields={"columns": [_("A column is mapped twice.")]})
    if kind == RecordKind.BANK_STATEMENT:
        money = "amount" in columns or {"debit", "credit"} <= set(columns)
        if "date" not in columns or not money:
            raise MappingInvalid(_("A statement needs a date and either an amount or both "
                                   "debit and credit."),
                                 fields={"columns": [_("date and amount (or debit and credit) "
                                                       "are required.")]})
    elif kind == RecordKind.TAX_RECORD and not {"period", "revenue"} <= set(columns):
        raise MappingInvalid(_("A tax record needs a period and revenue."),
                             fields={"columns": [_("period and revenue are required.")]})
    elif kind == RecordKind.UTILITY_BILL and not {"period", "kwh"} <= set(columns):
        raise MappingInvalid(_("A utility record needs a period and the usage."),
                             fields={"columns": [_("period and kwh are required.")]})
    sign = ("direction" if "direction" in columns else
            "signed" if "amount" in columns else "debit_credit")
    return ProposedMapping(kind=kind, header_row=proposal.header_row, columns=dict(columns),
                           headers=proposal.headers, date_format=date_format or
                           proposal.date_format, sign=sign, data_rows=proposal.data_rows,
                           totals_rows=proposal.totals_rows)


def column_profile_confirm(*, document_id: int, actor: User, bank: str, columns: dict,
                           date_format: str | None = None) -> ColumnProfile:
    """Confirm a column mapping on a document: a new version of `bank`'s profile, and the
    document's checks run again with it. Who: whoever may re-check the document (preparer or
    the branch's risk reviewer); 409 while its checks are running."""
    document_get(viewer=actor, document_id=document_id)  # 404 unless visible
    family = slugify(bank or "", allow_unicode=True)[:40]
    if not family:
        raise MappingInvalid(_("Name the bank whose export this is."),
                             fields={"bank": [_("This field is required.")]})
    with transaction.atomic():
        document = (Document.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("application").get(pk=document_id))
        transition_check(document.recheck, actor=actor)  # 403 before 409
        kind = _record_kind(document)
        rows = _rows(document)
        proposal = _infer(kind, rows)
        mapping = _validate(kind, columns, rows, proposal, date_format)
        continuity = None
        if kind == RecordKind.BANK_STATEMENT:
            txns, _skipped = transactions(rows, mapping)
            if not txns:
                raise MappingInvalid(_("No transactions can be read with this mapping."),
                                     fields={"columns": [_("Check the date and amount "
                                                           "columns.")]})
            continuity = balance_continuity(rows, mapping.columns, mapping.sign,
                                            mapping.header_row + 1)
        previous = (ColumnProfile.objects.select_for_update()
                    .filter(family=family, kind=kind).order_by("-version").first())
        version = (ColumnProfile.objects.filter(family=family)
                   .aggregate(v=Max("version"))["v"] or 0) + 1
        aliases = {f: [mapping.headers[i]] for f, i in mapping.columns.items()
                   if mapping.headers[i]}
        if previous is not None:  # the bank's older header variants still match
            for f, names in (previous.columns or {}).items():
                aliases[f] = list(dict.fromkeys([*aliases.get(f, []), *names]))
        required = [f for f in ("date", "amount", "debit", "credit", "period", "revenue", "kwh")
                    if f in mapping.columns]
        profile = ColumnProfile.objects.create(
            code=f"{slugify(family)[:30] or 'bank'}-{kind[:4]}-v{version}-{document.pk}"[:50],
            name=_("%(bank)s export (confirmed, version %(version)s)")
            % {"bank": bank.strip()[:150], "version": version},
            kind=kind, columns=aliases, required=required,
            date_formats=[mapping.date_format] if mapping.date_format else [],
            cash_keywords=previous.cash_keywords if previous is not None else [],
            family=family, version=version, confirmed_by=actor, confirmed_at=timezone.now(),
            confirmed_on=document)
        if previous is not None and previous.is_active:
            previous.is_active = False
            previous.save(update_fields=["is_active", "updated_at"])
        document.recheck(at=timezone.now())
        document.save()
        for check in document.checks.select_for_update(no_key=True):
            if check.status in CHECK_DONE:
                check.reset()
                check.save()
        # The audit lock last (CONVENTIONS §4).
        audit_record(action="column_profile.confirmed", actor=actor, subject=document,
                     payload={"profile": profile.code, "family": family, "version": version,
                              "kind": kind, "columns": mapping.columns,
                              "headers": {f: mapping.headers[i]
                                          for f, i in mapping.columns.items()},
                              "date_format": mapping.date_format,
                              "balance_continuity": None if continuity is None
                              else str(continuity),
                              "replaces": previous.code if previous is not None else None})
        audit_record(action="document.recheck_requested", actor=actor, subject=document,
                     payload={"application_id": document.application_id,
                              "reason": "column_profile_confirmed"})
        enqueue_on_commit(TaskName.DOCUMENT_CHECK, document_id=document.pk)
    return profile


def unconfirmed_checks(document: Document) -> list[DocumentCheck]:
    """The document's record checks that wait for a confirmed mapping."""
    return [c for c in document.checks.all() if c.kind in KIND_BY_CHECK
            and (c.findings or {}).get("unverified_reason") == "unconfirmed_mapping"]
