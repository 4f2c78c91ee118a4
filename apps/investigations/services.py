"""Writes for checklist templates: import, publish, retire; and export. All audited.

Templates are policy data: publishing follows the four-eyes rule for policy changes (domain
reference §6.4): whoever drafted (imported) a version never publishes it. `actor=None` is the
system (seed data, management commands run by an operator), never reachable from a request.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.investigations.models import (
    ChecklistTemplate,
    CrossCheckRule,
    Item,
    PolicyValue,
    Section,
)
from apps.investigations.policy import policy_keys
from apps.investigations.validation import FORMAT, TemplateIssue, validate_template_data
from apps.policy.versioning import version_publish, version_require_draft, version_retire

IMPORT_PERMISSION = "investigations.add_checklisttemplate"
PUBLISH_PERMISSION = "investigations.publish_checklisttemplate"


class TemplateInvalid(ValidationError):
    """A template with problems; `issues` keeps each one with its path and position."""

    def __init__(self, issues: list[TemplateIssue]):
        self.issues = issues
        by_path: dict[str, list[str]] = {}
        for issue in issues:
            by_path.setdefault(issue.path, []).append(issue.problem)
        super().__init__(by_path)


def _require(actor, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(_("You may not change checklist templates."))


def _product_codes() -> set[str]:
    from apps.products.models import CreditProduct

    return set(CreditProduct.objects.values_list("code", flat=True))


def _bi(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


def template_export(template: ChecklistTemplate) -> dict:
    """The whole template as a plain document (JSON/YAML-ready), and the policy values its
    rules name, so a file moved to another installation carries its thresholds with their
    evidence tags. State and people are not exported: an import is always a new draft."""
    sections = []
    items_by_section: dict[int, list] = {}
    for item in template.items.order_by("order", "id"):
        items_by_section.setdefault(item.section_id, []).append({
            "code": item.code, "answer_type": item.answer_type,
            "label": _bi(item.label_en, item.label_zh),
            "help": _bi(item.help_en, item.help_zh),
            "required": item.required, "na_allowed": item.na_allowed,
            "unit": item.unit, "min_length": item.min_length, "choices": item.choices,
            "columns": item.columns, "expression": item.expression,
            "evidence": item.evidence, "validation_rules": item.validation_rules,
            "red_flag_rules": item.red_flag_rules,
        })
    for section in template.sections.order_by("order", "id"):
        sections.append({"code": section.code, "title": _bi(section.title_en, section.title_zh),
                         "items": items_by_section.get(section.pk, [])})
    cross_checks = [{
        "code": check.code, "title": _bi(check.title_en, check.title_zh),
        "expression": check.expression, "thresholds": check.thresholds,
        "explanation": _bi(check.explanation_en, check.explanation_zh),
    } for check in template.cross_checks.order_by("order", "id")]
    data = {
        "format": FORMAT, "code": template.code, "version": template.version,
        "product": template.product.code if template.product_id else None,
        "name": _bi(template.name_en, template.name_zh), "default": template.is_default,
        "description": _bi(template.description_en, template.description_zh),
        "source_citation": template.source_citation,
        "sections": sections, "cross_checks": cross_checks,
    }
    data["policies"] = _policies_named_by(data)
    return data


def _policies_named_by(data: dict) -> list[dict]:
    from apps.investigations import expressions as ex

    keys: set[str] = set()
    texts = []
    for section in data["sections"]:
        for item in section["items"]:
            texts.append(item.get("expression") or "")
            texts += [r.get("expression", "") for r in item.get("validation_rules") or []]
            texts += [r.get("when", "") for r in item.get("red_flag_rules") or []]
    for check in data["cross_checks"]:
        texts.append(check["expression"])
        keys |= {t["policy"] for t in check["thresholds"] if "policy" in t}
    for text in filter(None, texts):
        try:
            keys |= ex.compile_rule(text).policy_keys
        except ex.RuleError:
            continue  # an invalid draft still exports; validation reports it
    rows = PolicyValue.objects.filter(key__in=keys).order_by("key", "version")
    return [{"key": row.key, "value": str(row.value), "unit": row.unit,
             "effective_from": row.effective_from.isoformat(),
             "effective_to": row.effective_to.isoformat() if row.effective_to else None,
             "evidence": row.evidence, "source_citation": row.source_citation,
             "version": row.version,
             "description": _bi(row.description_en, row.description_zh)} for row in rows]


def template_validate(template: ChecklistTemplate) -> list[TemplateIssue]:
    """Compile every expression of a stored template against its own item codes and the
    policy keys on file; [] when it may be published. Same checks as an import."""
    return validate_template_data(template_export(template), policy_keys=policy_keys(),
                                  product_codes=_product_codes())


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":"), default=str).encode()).hexdigest()


@transaction.atomic
def template_import(data: dict, *, actor=None) -> ChecklistTemplate:
    """Create a draft template (and any policy values it ships) from a document.

    Everything is validated before the first write, and all writes share one transaction, so
    a bad file leaves nothing behind. A policy value already on file under the same key and
    version must be identical: an import never rewrites a threshold (§0.2).
    """
    _require(actor, IMPORT_PERMISSION)
    issues = validate_template_data(data, policy_keys=policy_keys(),
                                    product_codes=_product_codes())
    code = data.get("code") if isinstance(data, dict) else None
    if not issues:
        version = data.get("version")
        if version is not None and ChecklistTemplate.objects.filter(code=code,
                                                                    version=version).exists():
            issues.append(TemplateIssue("version", f"{code} v{version} already exists; a "
                                        "published template never changes"))
        issues += _policy_conflicts(data.get("policies") or [])
    if issues:
        raise TemplateInvalid(issues)

    created_policies = _policies_create(data.get("policies") or [])
    if data.get("version") is None:
        # Lock the existing versions so two imports do not take the same number.
        latest = (ChecklistTemplate.objects.select_for_update(no_key=True).filter(code=code)
                  .aggregate(n=Max("version"))["n"]) or 0
        version = latest + 1
    product = None
    if data.get("product"):
        from apps.products.models import CreditProduct

        product = CreditProduct.objects.get(code=data["product"])
    description = data.get("description") or {}
    template = ChecklistTemplate.objects.create(
        code=code, version=version, product=product,
        name_en=data["name"]["en"], name_zh=data["name"]["zh"],
        description_en=description.get("en", ""), description_zh=description.get("zh", ""),
        is_default=bool(data.get("default", False)),
        source_citation=data.get("source_citation") or "", created_by=actor)
    items = _template_parts_create(template, data)
    audit_record(action="checklist_template.imported", actor=actor, subject=template,
                 payload={"code": code, "version": version, "items": len(items),
                          "sha256": _digest(data), "policies_created": created_policies})
    return template


def _template_parts_create(template: ChecklistTemplate, data: dict) -> list[Item]:
    """The sections, items and cross-checks of a validated document, written under a draft
    (an import, or a draft's content replaced in the workbench)."""
    items = []
    for s_order, s_data in enumerate(data["sections"]):
        section = Section.objects.create(template=template, code=s_data["code"], order=s_order,
                                         title_en=s_data["title"]["en"],
                                         title_zh=s_data["title"]["zh"])
        for i_order, i_data in enumerate(s_data.get("items") or []):
            help_text = i_data.get("help") or {}
            items.append(Item(
                template=template, section=section, code=i_data["code"], order=i_order,
                answer_type=i_data["answer_type"], unit=i_data.get("unit") or "",
                min_length=i_data.get("min_length"), choices=i_data.get("choices") or [],
                columns=i_data.get("columns") or {}, expression=i_data.get("expression") or "",
                label_en=i_data["label"]["en"], label_zh=i_data["label"]["zh"],
                help_en=help_text.get("en", ""), help_zh=help_text.get("zh", ""),
                required=i_data.get("required", True), na_allowed=i_data.get("na_allowed",
                                                                             False),
                evidence=i_data.get("evidence") or {},
                validation_rules=i_data.get("validation_rules") or [],
                red_flag_rules=i_data.get("red_flag_rules") or []))
    Item.objects.bulk_create(items)
    CrossCheckRule.objects.bulk_create([CrossCheckRule(
        template=template, code=c["code"], order=order, title_en=c["title"]["en"],
        title_zh=c["title"]["zh"], expression=c["expression"], thresholds=c["thresholds"],
        explanation_en=c["explanation"]["en"], explanation_zh=c["explanation"]["zh"],
    ) for order, c in enumerate(data.get("cross_checks") or [])])
    return items


def _policy_conflicts(rows: list[dict]) -> list[TemplateIssue]:
    issues = []
    for index, row in enumerate(rows):
        existing = PolicyValue.objects.filter(key=row["key"],
                                              version=row.get("version", 1)).first()
        if existing is not None and existing.value != Decimal(str(row["value"])):
            issues.append(TemplateIssue(
                f"policies[{index}].value",
                f"{row['key']} v{existing.version} is {existing.value} on file; publish a new "
                "policy version instead of changing this one"))
    return issues


def _policies_create(rows: list[dict]) -> list[str]:
    created = []
    for row in rows:
        description = row.get("description") or {}
        _, was_created = PolicyValue.objects.get_or_create(
            key=row["key"], version=row.get("version", 1),
            defaults={"value": Decimal(str(row["value"])), "unit": row.get("unit") or "",
                      "effective_from": row.get("effective_from") or timezone.localdate(),
                      "effective_to": row.get("effective_to"),
                      "evidence": row.get("evidence", "G"),
                      "source_citation": row.get("source_citation") or "",
                      "description_en": description.get("en", ""),
                      "description_zh": description.get("zh", "")})
        if was_created:
            created.append(f"{row['key']}@v{row.get('version', 1)}")
    return created


def _require_valid(template: ChecklistTemplate) -> None:
    issues = template_validate(template)
    if issues:
        raise TemplateInvalid(issues)


def template_publish(*, template_id: int, effective_from=None, actor=None) -> ChecklistTemplate:
    """Put a draft in force (from `effective_from`, default today); the published version of
    the same code before it retires.

    Refused with item-level errors while any rule does not compile (rules validated when the
    template is saved, §3.5), and, four-eyes, when the actor drafted it (§6.4): the shared
    sequence of `apps.policy.versioning.version_publish`.
    """
    return version_publish(
        model=ChecklistTemplate, pk=template_id, actor=actor, effective_from=effective_from,
        check=_require_valid,
        payload=lambda t: {"sha256": _digest(template_export(t))})


def template_retire(*, template_id: int, effective_to=None, reason: str = "",
                    actor=None) -> ChecklistTemplate:
    """Withdraw a template with no successor; investigations begun on it keep it (§3.5)."""
    return version_retire(model=ChecklistTemplate, pk=template_id, actor=actor,
                          effective_to=effective_to, reason=reason)


# --- the policy workbench (issue 17): a draft started from the newest version, edited whole ---

# What the workbench edits of a template: everything but what names the version (its code and
# number) and the thresholds, which are policy values with their own versions and page.
EDITED_KEYS = ("product", "name", "default", "description", "source_citation", "sections",
               "cross_checks")


def template_editable_document(template: ChecklistTemplate) -> dict:
    """The part of a template's export a policy officer edits as YAML or JSON."""
    data = template_export(template)
    return {key: data[key] for key in EDITED_KEYS}


@transaction.atomic
def template_draft_next(*, template_id: int, actor) -> ChecklistTemplate:
    """Start the next draft of a template's code as a copy of its newest version (numbered
    after the highest), to be edited and published four-eyes; the actor is its drafter."""
    _require(actor, IMPORT_PERMISSION)
    code = ChecklistTemplate.objects.values_list("code", flat=True).get(pk=template_id)
    latest = ChecklistTemplate.objects.filter(code=code).order_by("-version").first()
    data = {**template_export(latest), "version": None, "policies": []}
    return template_import(data, actor=actor)


@transaction.atomic
def template_draft_save(*, template_id: int, data: dict, actor) -> ChecklistTemplate:
    """Replace a draft's content (sections, items, rules, red flags, cross-checks) with an
    edited document. The whole document is validated first, every rule compiled against its
    own items and the policy keys on file: a refusal (TemplateInvalid, by path) leaves the
    draft as it was."""
    _require(actor, IMPORT_PERMISSION)
    template = ChecklistTemplate.objects.select_for_update(no_key=True, of=("self",)).get(
        pk=template_id)
    version_require_draft(template)
    if not isinstance(data, dict):
        raise TemplateInvalid([TemplateIssue("$", "a template is an object")])
    data = {**{key: data.get(key) for key in EDITED_KEYS if key in data}, "format": FORMAT,
            "code": template.code, "version": template.version}
    issues = validate_template_data(data, policy_keys=policy_keys(),
                                    product_codes=_product_codes())
    if issues:
        raise TemplateInvalid(issues)
    before = _digest(template_export(template))
    template.sections.all().delete()  # cascades to items; parts of a draft may change
    template.cross_checks.all().delete()
    product = None
    if data.get("product"):
        from apps.products.models import CreditProduct

        product = CreditProduct.objects.get(code=data["product"])
    description = data.get("description") or {}
    template.product = product
    template.name_en, template.name_zh = data["name"]["en"], data["name"]["zh"]
    template.description_en = description.get("en", "")
    template.description_zh = description.get("zh", "")
    template.is_default = bool(data.get("default", False))
    template.source_citation = data.get("source_citation") or ""
    template.save()
    items = _template_parts_create(template, data)
    audit_record(action="checklist_template.changed", actor=actor, subject=template,
                 payload={"code": template.code, "version": template.version,
                          "items": len(items), "sha256_before": before,
                          "sha256": _digest(template_export(template))})
    return template
