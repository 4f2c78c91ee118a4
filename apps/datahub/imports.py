"""The file-import path: the exports banks really receive, read by the connectors' own
`parse()` so a file and an online answer are checked by the same rules.

Formats: JSON, one answer or a list of answers in the source's documented shape, each naming
its subject (registry: `enterprise.uscc`; court: `subject.uscc`); CSV for the court lists
(columns `CourtConnector.CSV_COLUMNS`, one row per case). The whole file is checked first: a
malformed answer or line refuses the file naming the field, and nothing is stored. Subjects
are matched by unified social credit code among the enterprises the importer may see; the
others are counted, not stored. Each matched subject gets a pull of channel `file` (cost 0:
the bank already has the file) whose records carry the same provenance as an online answer,
and which later requests may reuse from the cache.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.datahub.connectors import connector_for
from apps.datahub.connectors.base import MalformedAnswer, NormalisedRecord
from apps.datahub.connectors.court import CSV_COLUMNS
from apps.datahub.models import Pull
from apps.datahub.services import records_found, store_records
from apps.datahub.states import Channel, Purpose, Source
from apps.parties.models import Enterprise

MAX_BYTES = 20 * 1024 * 1024


@dataclass
class ImportResult:
    pulls: list[Pull] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """What the import did, in a sentence (the API's `detail`)."""
        if not self.pulls and self.already_imported:
            return _("Nothing new: this file was imported before (%(n)s subjects already on "
                     "file).") % {"n": len(self.already_imported)}
        text = _("%(n)s subjects imported.") % {"n": len(self.pulls)}
        if self.already_imported:
            text += " " + _("%(n)s were already imported from the same export and were not "
                            "stored again.") % {"n": len(self.already_imported)}
        if self.unmatched:
            text += " " + _("%(n)s are not enterprises you can see.") % {"n": len(self.unmatched)}
        return text


def content_digest(source: str, version: str, raw: str) -> str:
    """The identity of one subject's part of an export: the same answer imported again (the
    same file twice, or two files repeating it) has the same digest."""
    return hashlib.sha256(f"{source}\n{version}\n{raw}".encode()).hexdigest()


def _subject_of(source: str, answer: dict, index: int) -> str:
    path = ("enterprise" if source == Source.REGISTRY else "subject")
    holder = answer.get(path) if isinstance(answer, dict) else None
    value = holder.get("uscc") if isinstance(holder, dict) else None
    if not isinstance(value, str) or not value:
        raise MalformedAnswer(f"answers.{index}.{path}.uscc is missing",
                              field=f"answers.{index}.{path}.uscc")
    return value


def _read(source: str, name: str, data: bytes) -> dict[str, tuple[list[NormalisedRecord], str]]:
    """uscc → (records, the raw part of the file about it). Raises MalformedAnswer."""
    connector = connector_for(source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedAnswer("the file is not UTF-8 text", field="(file)") from exc
    out: dict[str, tuple[list[NormalisedRecord], str]] = {}
    if name.lower().endswith(".json"):
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise MalformedAnswer("the file is not JSON", field="(file)") from exc
        answers = payload if isinstance(payload, list) else [payload]
        for index, answer in enumerate(answers):
            uscc = _subject_of(source, answer, index)
            try:
                records = connector.parse(answer)
            except MalformedAnswer as exc:
                exc.field = f"answers.{index}.{exc.field}"
                raise
            out[uscc] = (records, json.dumps(answer, ensure_ascii=False))
        return out
    if name.lower().endswith(".csv") and source == Source.COURT:
        try:
            return _read_csv(connector, text)
        except csv.Error as exc:
            raise MalformedAnswer(f"the CSV cannot be read: {exc}", field="(file)") from exc
    raise MalformedAnswer(_("Send a .json file, or a .csv file of the court lists."),
                          field="(file)")


def _read_csv(connector, text: str) -> dict[str, tuple[list[NormalisedRecord], str]]:
    out: dict[str, tuple[list[NormalisedRecord], str]] = {}
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise MalformedAnswer(f"columns missing: {', '.join(missing)}", field=missing[0])
    rows: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for line, row in enumerate(reader, start=2):
        if not (row.get("uscc") or "").strip():
            raise MalformedAnswer(f"line {line}: uscc is empty", field=f"line {line}.uscc")
        rows[row["uscc"].strip()].append((line, row))
    for uscc, lines in rows.items():
        for line, row in lines:   # check each line alone so the error names its line
            try:
                connector.parse(connector.csv_payload([row], line_offset=line))
            except MalformedAnswer as exc:
                if not exc.field.startswith("line"):
                    exc.field = f"line {line}.{exc.field.rsplit('.', 1)[-1]}"
                raise
        payload = connector.csv_payload([r for _, r in lines])
        out[uscc] = (connector.parse(payload), json.dumps(payload, ensure_ascii=False))
    return out


def file_import(*, source: str, name: str, data: bytes, purpose: str, actor) -> ImportResult:
    if not actor.has_perm("datahub.import_file"):
        raise PermissionDenied(_("You may not import external-data files."))
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": [_("Unknown purpose.")]})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": [_("The file is larger than 20 MB.")]})
    try:
        subjects = _read(source, name, data)
    except MalformedAnswer as exc:
        raise ValidationError({exc.field or "file": [exc.detail]}) from exc
    branches = visible_branch_ids(viewer=actor)
    enterprises = Enterprise.objects.filter(uscc__in=list(subjects))
    if branches is not None:
        enterprises = enterprises.filter(branch_id__in=branches)
    by_uscc = {e.uscc: e for e in enterprises}
    result = ImportResult(unmatched=sorted(set(subjects) - set(by_uscc)))
    version = connector_for(source).format_version
    with transaction.atomic():
        now = timezone.now()
        # Idempotent: a subject whose part of the file was imported before is not stored again
        # (the enterprise rows are locked so two imports of one file cannot both store it).
        wanted = {by_uscc[u].pk: content_digest(source, version, raw)
                  for u, (_records, raw) in subjects.items() if u in by_uscc}
        list(Enterprise.objects.select_for_update(of=("self",), no_key=True)
             .filter(pk__in=list(wanted)).order_by("pk").values_list("pk", flat=True))
        seen = set(Pull.objects.filter(channel=Channel.FILE, source=source,
                                       enterprise_id__in=list(wanted),
                                       content_sha256__in=list(wanted.values()))
                   .values_list("enterprise_id", "content_sha256"))
        for uscc, (records, raw) in subjects.items():
            enterprise = by_uscc.get(uscc)
            if enterprise is None:
                continue
            if (enterprise.pk, wanted[enterprise.pk]) in seen:
                result.already_imported.append(uscc)
                continue
            pull = Pull(enterprise=enterprise, branch_id=enterprise.branch_id, source=source,
                        purpose=purpose, channel=Channel.FILE, requested_by=actor, price=0,
                        content_sha256=wanted[enterprise.pk])
            pull.succeed(at=now, format_version=version, content_type="application/json",
                         body=raw)
            pull.save()
            records_found(pull, store_records(pull, records))
            audit_record(action="datahub.file_imported", actor=actor, subject=pull,
                         branch_id=pull.branch_id, enterprise_id=enterprise.pk,
                         payload={"source": source, "file": name[:200],
                                  "records": len(records), "query_id": str(pull.query_id)})
            result.pulls.append(pull)
    result.already_imported.sort()
    return result
