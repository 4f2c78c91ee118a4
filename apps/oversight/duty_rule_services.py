"""Writes for the due-diligence duty rules in the policy workbench (issue 17): the next version
drafted as a copy, its duties added, changed and removed, published four-eyes, retired;
export and import as plain documents. All audited.

Duty rules are policy data (domain reference §0.2, §4.6): what "duty done" means changes only
as a new version, so a pack can always be re-explained by the rules it was evaluated against.
The publish/retire sequence is the shared one (`apps.policy.versioning`).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.oversight import duties
from apps.oversight.models import DutyRule, DutyRuleSet
from apps.policy.versioning import (
    version_next_number,
    version_publish,
    version_require_draft,
    version_retire,
)

MANAGE_PERMISSION = "oversight.change_dutyruleset"
RULE_FIELDS = ("code", "label_en", "label_zh", "evaluator", "parameters", "order")
EXPORT_FORMAT = "credence.duty-rules/1"


def _require(actor) -> None:
    if actor is not None and not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(_("You may not change the due-diligence duty rules."))


def _rule_problems(fields: dict) -> dict:
    """What is wrong with one duty beyond its model fields: an evaluator that exists in code
    and parameters that are an object."""
    errors = {}
    if "evaluator" in fields and fields["evaluator"] not in duties.registered_evaluators():
        errors["evaluator"] = [_("Unknown evaluator; choose one of: %(names)s.")
                               % {"names": ", ".join(duties.registered_evaluators())}]
    if "parameters" in fields and not isinstance(fields["parameters"], dict):
        errors["parameters"] = [_("Parameters are an object of names and values.")]
    return errors


@transaction.atomic
def duty_rule_set_draft(*, actor, effective_from: dt.date | None = None,
                        source_citation: str = "") -> DutyRuleSet:
    """An empty draft numbered after the highest version."""
    _require(actor)
    number = version_next_number(DutyRuleSet.objects.select_for_update(no_key=True))
    rule_set = DutyRuleSet(version=number, created_by=actor,
                           effective_from=effective_from or timezone.localdate(),
                           source_citation=source_citation)
    rule_set.full_clean()
    rule_set.save()
    audit_record(action="duty_rule_set.created", actor=actor, subject=rule_set,
                 payload={"version": number})
    return rule_set


@transaction.atomic
def duty_rule_set_draft_next(*, actor) -> DutyRuleSet:
    """Start the next version as a copy of the newest one, every duty included."""
    latest = DutyRuleSet.objects.order_by("-version").first()
    if latest is None:
        raise ValidationError({"rule_set": _("There is no rule set to start from.")})
    rule_set = duty_rule_set_draft(actor=actor, source_citation=latest.source_citation)
    DutyRule.objects.bulk_create([DutyRule(
        rule_set=rule_set, **{name: getattr(rule, name) for name in RULE_FIELDS})
        for rule in latest.rules.all()])
    audit_record(action="duty_rule_set.changed", actor=actor, subject=rule_set,
                 payload={"copied_from": latest.version,
                          "rules": [r.code for r in rule_set.rules.all()]})
    return rule_set


def _locked_draft(rule_set_id: int) -> DutyRuleSet:
    rule_set = DutyRuleSet.objects.select_for_update(no_key=True).get(pk=rule_set_id)
    version_require_draft(rule_set)
    return rule_set


@transaction.atomic
def duty_rule_add(*, rule_set_id: int, actor, **fields) -> DutyRule:
    """Add one duty to a draft, checked whole before the write."""
    _require(actor)
    rule_set = _locked_draft(rule_set_id)
    errors = _rule_problems(fields)
    rule = DutyRule(rule_set=rule_set, **{k: v for k, v in fields.items() if k in RULE_FIELDS})
    try:
        rule.full_clean()
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    rule.save()
    audit_record(action="duty_rule_set.changed", actor=actor, subject=rule_set,
                 payload={"added": rule.code, "evaluator": rule.evaluator,
                          "parameters": rule.parameters})
    return rule


@transaction.atomic
def duty_rule_update(*, rule_id: int, actor, **fields) -> DutyRule:
    """Change one duty of a draft; a refusal (by field) leaves it as it was."""
    _require(actor)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    rule = DutyRule.objects.get(pk=rule_id)
    rule_set = _locked_draft(rule.rule_set_id)
    errors = _rule_problems(fields)
    before = {name: getattr(rule, name) for name in fields}
    for name, value in fields.items():
        setattr(rule, name, value)
    try:
        rule.full_clean()
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    rule.save()
    audit_record(action="duty_rule_set.changed", actor=actor, subject=rule_set,
                 payload={"changed": rule.code, "before": before, "after": fields})
    return rule


@transaction.atomic
def duty_rule_remove(*, rule_id: int, actor) -> None:
    _require(actor)
    rule = DutyRule.objects.get(pk=rule_id)
    rule_set = _locked_draft(rule.rule_set_id)
    code = rule.code
    rule.delete()
    audit_record(action="duty_rule_set.changed", actor=actor, subject=rule_set,
                 payload={"removed": code})


def _require_rules(rule_set: DutyRuleSet) -> None:
    if not rule_set.rules.exists():
        raise ValidationError({"rules": _("A rule set needs at least one duty.")})


def duty_rule_set_publish(*, rule_set_id: int, actor,
                          effective_from: dt.date | None = None) -> DutyRuleSet:
    """Put a draft in force (four-eyes); the version before it retires that day."""
    return version_publish(model=DutyRuleSet, pk=rule_set_id, actor=actor,
                           effective_from=effective_from, check=_require_rules,
                           payload=lambda s: {"rules": [r.code for r in s.rules.all()]})


def duty_rule_set_retire(*, rule_set_id: int, actor, effective_to: dt.date | None = None,
                         reason: str = "") -> DutyRuleSet:
    """Withdraw the duties in force without a successor (packs keep their version)."""
    return version_retire(model=DutyRuleSet, pk=rule_set_id, actor=actor,
                          effective_to=effective_to, reason=reason)


def duty_rule_set_export(rule_set: DutyRuleSet) -> dict:
    return {"format": EXPORT_FORMAT, "version": rule_set.version,
            "source_citation": rule_set.source_citation,
            "rules": [{name: getattr(rule, name) for name in RULE_FIELDS}
                      for rule in rule_set.rules.all()]}


@transaction.atomic
def duty_rule_set_import(data, *, actor) -> DutyRuleSet:
    """A new draft from an exported document; every duty checked first (errors by path)."""
    _require(actor)
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError({"format": _("This is not a duty-rules export.")})
    errors = {}
    rows = data.get("rules") if isinstance(data.get("rules"), list) else []
    if not rows:
        errors["rules"] = [_("A rule set needs at least one duty.")]
    for index, row in enumerate(rows):
        fields = {k: v for k, v in row.items() if k in RULE_FIELDS} if isinstance(
            row, dict) else {}
        problems = _rule_problems({"evaluator": fields.get("evaluator"),
                                   "parameters": fields.get("parameters", {})})
        try:
            DutyRule(rule_set=DutyRuleSet(version=1), **fields).full_clean(
                exclude=["rule_set"])
        except (ValidationError, TypeError) as exc:
            problems.update(getattr(exc, "message_dict", {"$": [str(exc)]}))
        for field, messages in problems.items():
            errors[f"rules.{index}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    rule_set = duty_rule_set_draft(actor=actor,
                                   source_citation=data.get("source_citation") or "")
    for row in rows:
        duty_rule_add(rule_set_id=rule_set.pk, actor=actor,
                      **{k: v for k, v in row.items() if k in RULE_FIELDS})
    return rule_set
