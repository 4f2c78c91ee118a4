"""What a draft checklist template changes, before it is published (issue 17): the difference
from the version in force in sentences, and a dry run of its rules over recent investigations
showing which red flags and cross-check findings would appear, disappear or change severity.

Reads only. The dry run evaluates exactly as a submission does (`apps.investigations.rules`
over the stored answers, N/A as unknown, derived values recomputed, today's policy values and
the application's parsed figures), once with the template the investigation was made on and
once with the draft, matching items by code. Scoped to the branches the viewer may see, as the
products' threshold report is (ASVS 8.2.2: a preview leaks no other branch's files).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.selectors import visible_branch_ids
from apps.investigations import rules
from apps.investigations.evidence import FiguresResolver
from apps.investigations.models import ChecklistTemplate, Investigation
from apps.investigations.policy import PolicyResolver
from apps.investigations.services import template_export
from apps.investigations.states import InvestigationState


def _items(document: dict) -> dict[str, dict]:
    return {item["code"]: item for section in document["sections"]
            for item in section["items"]}


def _by_code(rows) -> dict[str, dict]:
    return {row.get("code"): row for row in rows or [] if isinstance(row, dict)}


def _label(item: dict) -> str:
    return f"{item['code']} ({item['label']['en']} / {item['label']['zh']})"


def _rule_lines(kind: str, item: str, old: list, new: list, text_key: str) -> list[str]:
    """Added, removed and changed rules of one list (validation rules or red flags)."""
    lines = []
    before, after = _by_code(old), _by_code(new)
    names = {"red_flag": _("red flag"), "validation": _("validation rule")}
    for code, rule in after.items():
        if code not in before:
            lines.append(_("Item %(item)s gains %(kind)s %(code)s: when %(when)s.")
                         % {"item": item, "kind": names[kind], "code": code,
                            "when": rule.get(text_key)})
        elif before[code] != rule:
            if before[code].get(text_key) != rule.get(text_key):
                lines.append(_("Item %(item)s, %(kind)s %(code)s changes from “%(old)s” to "
                               "“%(new)s”.") % {"item": item, "kind": names[kind], "code": code,
                                                "old": before[code].get(text_key),
                                                "new": rule.get(text_key)})
            if before[code].get("severity") != rule.get("severity"):
                lines.append(_("Item %(item)s, red flag %(code)s changes severity from "
                               "%(old)s to %(new)s.") % {"item": item, "code": code,
                                                         "old": before[code].get("severity"),
                                                         "new": rule.get("severity")})
            if before[code].get("message") != rule.get("message"):
                lines.append(_("Item %(item)s, %(kind)s %(code)s has a new message.")
                             % {"item": item, "kind": names[kind], "code": code})
    for code in before:
        if code not in after:
            lines.append(_("Item %(item)s loses %(kind)s %(code)s.")
                         % {"item": item, "kind": names[kind], "code": code})
    return lines


_ITEM_FIELDS = ("answer_type", "unit", "required", "na_allowed", "min_length", "choices",
                "columns", "expression", "evidence", "label", "help")


def template_diff(*, draft: dict, in_force: dict | None) -> list[str]:
    """Every difference between two template documents (`template_export`), in sentences."""
    if in_force is None:
        return [_("New template: %(sections)s sections, %(items)s items, %(checks)s "
                  "cross-checks.") % {"sections": len(draft["sections"]),
                                      "items": len(_items(draft)),
                                      "checks": len(draft.get("cross_checks") or [])}]
    lines = []
    if draft["name"] != in_force["name"]:
        lines.append(_("The name changes from “%(old)s” to “%(new)s”.")
                     % {"old": in_force["name"]["en"], "new": draft["name"]["en"]})
    if draft.get("product") != in_force.get("product"):
        lines.append(_("The product changes from %(old)s to %(new)s.")
                     % {"old": in_force.get("product") or _("any product"),
                        "new": draft.get("product") or _("any product")})
    old_sections = _by_code(in_force["sections"])
    for code, section in _by_code(draft["sections"]).items():
        if code not in old_sections:
            lines.append(_("New section %(code)s: %(title)s.")
                         % {"code": code, "title": section["title"]["en"]})
    for code in old_sections:
        if code not in _by_code(draft["sections"]):
            lines.append(_("Section %(code)s is dropped.") % {"code": code})
    before, after = _items(in_force), _items(draft)
    for code, item in after.items():
        old = before.get(code)
        if old is None:
            lines.append(_("New item %(item)s, answered as %(type)s.")
                         % {"item": _label(item), "type": item["answer_type"]})
            continue
        changed = [name for name in _ITEM_FIELDS if old.get(name) != item.get(name)]
        if changed:
            lines.append(_("Item %(item)s changes: %(fields)s.")
                         % {"item": code, "fields": ", ".join(changed)})
        lines += _rule_lines("validation", code, old.get("validation_rules"),
                             item.get("validation_rules"), "expression")
        lines += _rule_lines("red_flag", code, old.get("red_flag_rules"),
                             item.get("red_flag_rules"), "when")
    for code, item in before.items():
        if code not in after:
            lines.append(_("Item %(item)s is dropped.") % {"item": _label(item)})
    old_checks, new_checks = _by_code(in_force.get("cross_checks")), \
        _by_code(draft.get("cross_checks"))
    for code, check in new_checks.items():
        if code not in old_checks:
            lines.append(_("New cross-check %(code)s: %(expression)s.")
                         % {"code": code, "expression": check["expression"]})
        elif old_checks[code] != check:
            lines.append(_("Cross-check %(code)s changes (expression or thresholds).")
                         % {"code": code})
    for code in old_checks:
        if code not in new_checks:
            lines.append(_("Cross-check %(code)s is dropped.") % {"code": code})
    return lines


@dataclass(frozen=True)
class FileChange:
    """One investigation whose findings the draft would change."""

    investigation_id: int
    reference: str
    gained: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        parts = []
        if self.gained:
            parts.append(_("would now raise %(codes)s") % {"codes": ", ".join(self.gained)})
        if self.lost:
            parts.append(_("would no longer raise %(codes)s") % {"codes": ", ".join(self.lost)})
        if self.severity:
            parts.append(_("would change severity: %(codes)s")
                         % {"codes": ", ".join(self.severity)})
        return _("%(reference)s %(changes)s.") % {"reference": self.reference,
                                                  "changes": "; ".join(parts)}


@dataclass(frozen=True)
class DryRun:
    examined: int
    changes: list[FileChange]

    @property
    def sentence(self) -> str:
        group = ngettext("Of the %(count)s most recent investigation",
                         "Of the %(count)s most recent investigations",
                         self.examined) % {"count": self.examined}
        return _("%(group)s with answers, %(changed)s would have different red flags or "
                 "cross-check findings under this draft.") % {"group": group,
                                                              "changed": len(self.changes)}


def _findings(document: dict, answers: dict, resolver, figures) -> dict[str, str]:
    """Code → severity of every rule finding (red flags and cross-checks) on these answers."""
    values = rules.derived_values(document, answers, resolver, figures)
    found = rules.red_flags(document, values, resolver, figures) \
        + rules.cross_checks(document, values, resolver, figures)
    return {finding.code: finding.severity for finding in found}


def template_dry_run(*, viewer, draft: ChecklistTemplate, limit: int = 50) -> DryRun:
    """The draft's rules over the viewer's most recent investigations of the same template
    code that have answers, against the rules each was made with."""
    investigations = (Investigation.objects
                      .filter(template__code=draft.code)
                      .exclude(state=InvestigationState.ASSIGNED)
                      .select_related("application", "template")
                      .prefetch_related("answers__item")
                      .order_by("-updated_at", "-pk"))
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        investigations = investigations.filter(application__branch_id__in=branch_ids)
    draft_document = template_export(draft)
    documents: dict[int, dict] = {}
    resolver = PolicyResolver()
    changes, examined = [], 0
    for investigation in investigations[:limit]:
        answers = {a.item.code: a.value for a in investigation.answers.all()
                   if not a.not_applicable}
        if not answers:
            continue
        examined += 1
        if investigation.template_id not in documents:
            documents[investigation.template_id] = template_export(investigation.template)
        figures = FiguresResolver(investigation.application_id)
        before = _findings(documents[investigation.template_id], answers, resolver, figures)
        after = _findings(draft_document, answers, resolver, figures)
        change = FileChange(
            investigation_id=investigation.pk, reference=investigation.application.reference,
            gained=sorted(set(after) - set(before)), lost=sorted(set(before) - set(after)),
            severity=sorted(f"{code} {before[code]}→{after[code]}" for code in
                            set(before) & set(after) if before[code] != after[code]))
        if change.gained or change.lost or change.severity:
            changes.append(change)
    return DryRun(examined=examined, changes=changes)
