"""Writes for the early-warning rule tables in the policy workbench (issue 17): a signal rule's
next version (a series per code) and the level → mandatory actions table (a versioned table
with rows), each drafted as a copy of the version in force, edited, published four-eyes,
retired; exported and imported as plain documents. All audited.

Both are policy data (domain reference §0.2, §4.3, §4.4): a rule changes only as a new version,
so every signal and action stays explainable by the rule it was raised under. The publish and
retire sequence is the shared one (`apps.policy.versioning`); the monthly run reads the version
in force (`signal_rules_in_force`, `level_action_rules`).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.investigations.models import PolicyValue
from apps.monitoring.models import LevelActionRule, LevelActionTable, SignalRule
from apps.policy.versioning import (
    version_in_force,
    version_next_number,
    version_require_draft,
)

SIGNAL_PERMISSION = "monitoring.change_signalrule"
TABLE_PERMISSION = "monitoring.change_levelactiontable"
# What a policy officer sets on a signal rule draft (the code names the series; state,
# authorship and the end date come from the transitions).
SIGNAL_FIELDS = ("name_en", "name_zh", "description_en", "description_zh", "level",
                 "thresholds", "implies_floor", "source", "evidence", "source_citation")
ACTION_FIELDS = ("level", "kind", "deadline_policy_key", "evidence", "source_citation")
SIGNAL_FORMAT, TABLE_FORMAT = "credence.signal-rules/1", "credence.level-actions/1"


def _require(actor, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(_("You may not change the early-warning rules."))


def _refuse_unknown(fields: dict, allowed: tuple) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})


def _unknown_policy_keys(keys) -> list[str]:
    known = set(PolicyValue.objects.filter(key__in=list(keys)).values_list("key", flat=True))
    return [key for key in keys if key not in known]


def _checked(row, extra: dict) -> None:
    """Model validation plus the kind's own problems, all at once, before any write."""
    errors = dict(extra)
    try:
        row.full_clean()
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)


# --- signal rules: a series per code -----------------------------------------------------------

def signal_rule_in_force(code: str, *, on: dt.date | None = None) -> SignalRule | None:
    return (version_in_force(SignalRule.objects.filter(code=code),
                             on=on or timezone.localdate()).order_by("-version").first())


def _signal_problems(fields: dict) -> dict:
    thresholds = fields.get("thresholds", [])
    if not isinstance(thresholds, list) or not all(isinstance(k, str) for k in thresholds):
        return {"thresholds": [_("The policy keys read are a list of policy keys.")]}
    unknown = _unknown_policy_keys(thresholds)
    if unknown:
        return {"thresholds": [_("No policy value has the key %(keys)s.")
                               % {"keys": ", ".join(unknown)}]}
    return {}


@transaction.atomic
def signal_rule_draft(*, code: str, actor, **fields) -> SignalRule:
    """Draft the next version of the rule `code`, starting as a copy of the newest version
    (a rule needs an evaluator in code, so only catalogue codes have versions)."""
    _require(actor, SIGNAL_PERMISSION)
    _refuse_unknown(fields, SIGNAL_FIELDS)
    # Lock the code's versions so two drafts never take the same number.
    series = SignalRule.all_versions.select_for_update(no_key=True).filter(code=code)
    latest = series.order_by("-version").first()
    if latest is None:
        raise ValidationError({"code": _("There is no early-warning rule %(code)s.")
                               % {"code": code}})
    start = {name: getattr(latest, name) for name in SIGNAL_FIELDS}
    rule = SignalRule(code=code, version=version_next_number(series), created_by=actor,
                      effective_from=timezone.localdate(), **{**start, **fields})
    rule.drafting = True
    _checked(rule, _signal_problems({**start, **fields}))
    rule.save()
    audit_record(action="signal_rule.created", actor=actor, subject=rule,
                 payload={"code": code, "version": rule.version, "copied_from": latest.version,
                          **{name: getattr(rule, name) for name in fields}})
    return rule


@transaction.atomic
def signal_rule_update(*, rule_id: int, actor, **fields) -> SignalRule:
    """Change a draft; a refusal (ValidationError by field) leaves it as it was."""
    _require(actor, SIGNAL_PERMISSION)
    _refuse_unknown(fields, SIGNAL_FIELDS)
    rule = SignalRule.all_versions.select_for_update(no_key=True).get(pk=rule_id)
    version_require_draft(rule)
    before = {name: getattr(rule, name) for name in fields}
    for name, value in fields.items():
        setattr(rule, name, value)
    _checked(rule, _signal_problems(fields))
    rule.save()
    audit_record(action="signal_rule.changed", actor=actor, subject=rule,
                 payload={"code": rule.code, "version": rule.version, "before": before,
                          "after": fields})
    return rule


def _signal_publish_check(rule: SignalRule) -> None:
    _raise(_signal_problems({"thresholds": rule.thresholds}))


# How each kind is published and retired: the shared `version_publish` / `version_retire`
# (lock, four-eyes, state, supersede, audit) with the kind's own check and audit payload.
SIGNAL_RULE_PUBLISHING = {
    "model": SignalRule, "check": _signal_publish_check,
    "payload": lambda rule: {"level": rule.level, "thresholds": rule.thresholds,
                             "implies_floor": rule.implies_floor}}


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def signal_rules_export(*, codes: list[str] | None = None) -> dict:
    """The rules in force today (of `codes`, or all), as a plain YAML/JSON document."""
    rules = version_in_force(SignalRule.objects, on=timezone.localdate()).order_by(
        "code", "-version")
    if codes:
        rules = rules.filter(code__in=codes)
    newest = {}
    for rule in rules:
        newest.setdefault(rule.code, rule)
    return {"format": SIGNAL_FORMAT, "rules": [
        {"code": rule.code, "version": rule.version,
         **{name: getattr(rule, name) for name in SIGNAL_FIELDS}}
        for rule in newest.values()]}


@transaction.atomic
def signal_rules_import(data, *, actor) -> list[SignalRule]:
    """Draft, for each rule in the document that differs from the one in force, the next
    version of its code. Everything is checked before the first write (errors by row)."""
    _require(actor, SIGNAL_PERMISSION)
    if not isinstance(data, dict) or data.get("format") != SIGNAL_FORMAT:
        raise ValidationError({"format": _("This is not an early-warning rules export.")})
    rows = data.get("rules") if isinstance(data.get("rules"), list) else []
    errors, wanted = {}, []
    for index, row in enumerate(rows):
        fields = {k: v for k, v in row.items() if k in SIGNAL_FIELDS} if isinstance(
            row, dict) else {}
        code = row.get("code") if isinstance(row, dict) else None
        current = signal_rule_in_force(code) if isinstance(code, str) else None
        if current is None:
            errors[f"rules.{index}.code"] = [_("There is no early-warning rule %(code)s.")
                                             % {"code": code}]
            continue
        probe = SignalRule(code=code, version=current.version + 1,
                           effective_from=timezone.localdate(),
                           **{**{n: getattr(current, n) for n in SIGNAL_FIELDS}, **fields})
        try:
            _checked(probe, _signal_problems(fields))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in ("version", "code", "__all__"):
                    errors[f"rules.{index}.{field}"] = messages
            continue
        if any(getattr(current, n) != getattr(probe, n) for n in SIGNAL_FIELDS):
            wanted.append((code, fields))
    if errors:
        raise ValidationError(errors)
    return [signal_rule_draft(code=code, actor=actor, **fields) for code, fields in wanted]


# --- the level → mandatory actions table: a versioned table with rows --------------------------

def level_action_table_in_force(*, on: dt.date | None = None) -> LevelActionTable | None:
    return (version_in_force(LevelActionTable.objects, on=on or timezone.localdate())
            .order_by("-version").first())


def _action_problems(fields: dict) -> dict:
    key = fields.get("deadline_policy_key")
    if isinstance(key, str) and key and _unknown_policy_keys([key]):
        return {"deadline_policy_key": [_("No policy value has the key %(keys)s.")
                                        % {"keys": key}]}
    return {}


@transaction.atomic
def level_action_table_draft_next(*, actor) -> LevelActionTable:
    """Start the next version as a copy of the table in force (else the newest), every row
    included."""
    _require(actor, TABLE_PERMISSION)
    start = level_action_table_in_force() or LevelActionTable.objects.order_by(
        "-version").first()
    table = _new_table(actor, start.source_citation if start is not None else "",
                       copied_from=start.version if start is not None else None)
    if start is not None:
        LevelActionRule.objects.bulk_create([LevelActionRule(
            table=table, **{name: getattr(row, name) for name in ACTION_FIELDS})
            for row in start.rules.all()])
    return table


def _new_table(actor, source_citation: str, **audit) -> LevelActionTable:
    """An empty draft numbered after the highest version."""
    number = version_next_number(LevelActionTable.objects.select_for_update(no_key=True))
    table = LevelActionTable(version=number, created_by=actor,
                             effective_from=timezone.localdate(),
                             source_citation=source_citation)
    table.full_clean()
    table.save()
    audit_record(action="level_action_table.created", actor=actor, subject=table,
                 payload={"version": number, **audit})
    return table


def _locked_draft(table_id: int) -> LevelActionTable:
    table = LevelActionTable.objects.select_for_update(no_key=True).get(pk=table_id)
    version_require_draft(table)
    return table


def _row_payload(row: LevelActionRule) -> list:
    return [row.level, row.kind, row.deadline_policy_key]


@transaction.atomic
def level_action_add(*, table_id: int, actor, **fields) -> LevelActionRule:
    """Add one mandatory action to a draft, checked whole before the write."""
    _require(actor, TABLE_PERMISSION)
    _refuse_unknown(fields, ACTION_FIELDS)
    table = _locked_draft(table_id)
    row = LevelActionRule(table=table, **fields)
    _checked(row, _action_problems(fields))
    row.save()
    audit_record(action="level_action_table.changed", actor=actor, subject=table,
                 payload={"added": _row_payload(row)})
    return row


@transaction.atomic
def level_action_update(*, rule_id: int, actor, **fields) -> LevelActionRule:
    """Change one row of a draft; a refusal (by field) leaves it as it was."""
    _require(actor, TABLE_PERMISSION)
    _refuse_unknown(fields, ACTION_FIELDS)
    row = LevelActionRule.objects.get(pk=rule_id)
    table = _locked_draft(row.table_id)
    before = _row_payload(row)
    for name, value in fields.items():
        setattr(row, name, value)
    _checked(row, _action_problems(fields))
    row.save()
    audit_record(action="level_action_table.changed", actor=actor, subject=table,
                 payload={"changed": before, "to": _row_payload(row)})
    return row


@transaction.atomic
def level_action_remove(*, rule_id: int, actor) -> None:
    _require(actor, TABLE_PERMISSION)
    row = LevelActionRule.objects.get(pk=rule_id)
    table = _locked_draft(row.table_id)
    payload = _row_payload(row)
    row.delete()
    audit_record(action="level_action_table.changed", actor=actor, subject=table,
                 payload={"removed": payload})


def _table_check(table: LevelActionTable) -> None:
    rows = list(table.rules.all())
    if not rows:
        raise ValidationError({"rules": _("The table needs at least one mandatory action.")})
    _raise({f"rules.{index}.deadline_policy_key": messages
            for index, row in enumerate(rows)
            for messages in _action_problems({"deadline_policy_key":
                                              row.deadline_policy_key}).values()})


LEVEL_ACTION_TABLE_PUBLISHING = {
    "model": LevelActionTable, "check": _table_check,
    "payload": lambda table: {"rules": [_row_payload(r) for r in table.rules.all()]}}


def level_action_table_export(table: LevelActionTable) -> dict:
    return {"format": TABLE_FORMAT, "version": table.version,
            "source_citation": table.source_citation,
            "rules": [{name: getattr(row, name) for name in ACTION_FIELDS}
                      for row in table.rules.all()]}


@transaction.atomic
def level_action_table_import(data, *, actor) -> LevelActionTable:
    """A new draft from an exported document; every row checked first (errors by path)."""
    _require(actor, TABLE_PERMISSION)
    if not isinstance(data, dict) or data.get("format") != TABLE_FORMAT:
        raise ValidationError({"format": _("This is not a level action table export.")})
    rows = data.get("rules") if isinstance(data.get("rules"), list) else []
    errors = {} if rows else {"rules": [_("The table needs at least one mandatory action.")]}
    for index, row in enumerate(rows):
        fields = {k: v for k, v in row.items() if k in ACTION_FIELDS} if isinstance(
            row, dict) else {}
        try:
            _checked(LevelActionRule(table=LevelActionTable(version=0), **fields),
                     _action_problems(fields))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field != "table":
                    errors[f"rules.{index}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    table = _new_table(actor, str(data.get("source_citation") or ""), imported=True)
    for row in rows:
        level_action_add(table_id=table.pk, actor=actor,
                         **{k: v for k, v in row.items() if k in ACTION_FIELDS})
    return table
