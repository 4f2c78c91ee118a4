"""Reads for investigations, scoped to the viewer (CONVENTIONS §6: no IDOR on any route).

The API and the pages build the same picture of one investigation from here: the template in
the reader's language, each item with its answer, version, derived value and the reviewer's
comments, progress per section, what still blocks submission, and the findings. Derived values
are recomputed on every read (§3.2 CALC: never typed, recomputed when inputs change); the red
flags and cross-check findings shown to the reviewer are the ones frozen at submission, so the
reviewer judges exactly what was submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.investigations import rules
from apps.investigations.evidence import FiguresResolver
from apps.investigations.expressions import RuleEvaluationError, compile_rule
from apps.investigations.models import (
    AnswerType,
    Investigation,
    Item,
    ItemComment,
    SiteCheckIn,
)
from apps.investigations.policy import PolicyResolver
from apps.investigations.services import template_export
from apps.investigations.states import ChecklistTemplateState, InvestigationState
from apps.investigations.validation import item_spec
from apps.investigations.workflow import EDITABLE_STATES, investigation_missing

# Roles that look at other people's files (as in the application selectors); a plain account
# manager sees the investigations of their own files and those they are an officer on.
_SUPERVISORY = (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER,
                Role.POST_LOAN_OFFICER, Role.AUDITOR, Role.ADMIN)


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def bilingual(obj: dict | None, *, en: str = "en", zh: str = "zh") -> str:
    """The reader's language from a template's {"en": …, "zh": …} pair (English fallback)."""
    if not obj:
        return ""
    return (obj.get(zh) if _zh() else None) or obj.get(en) or ""


def investigation_list(*, viewer: User) -> QuerySet[Investigation]:
    """Investigations the viewer may see: their branch's (bank-wide roles: all); a plain
    account manager only those of their files or on which they are an officer (the assisting
    officer usually does not manage the file, yet must open the form)."""
    investigations = Investigation.objects.select_related(
        "application", "application__enterprise", "application__branch", "template",
        "lead_officer", "assisting_officer", "reviewed_by")
    if not viewer.is_authenticated or not (viewer.is_superuser or viewer.roles):
        return investigations.none()
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        investigations = investigations.filter(application__branch_id__in=branch_ids)
    if not viewer.is_superuser and not viewer.has_role(*_SUPERVISORY):
        investigations = investigations.filter(
            Q(application__account_manager=viewer) | Q(lead_officer=viewer)
            | Q(assisting_officer=viewer))
    return investigations


def investigation_get(*, viewer: User, investigation_id: int) -> Investigation:
    """404, not 403, for an investigation the viewer may not see: existence not revealed."""
    return get_object_or_404(investigation_list(viewer=viewer), pk=investigation_id)


def investigation_for_application(*, viewer: User, application) -> Investigation | None:
    """The investigation of an application the caller already may see (or None)."""
    return investigation_list(viewer=viewer).filter(application_id=application.pk).first()


# --- the whole picture of one investigation ---------------------------------------------------


@dataclass
class ItemView:
    """One item as the form and the reviewer see it."""

    item: Item
    code: str
    label: str
    help: str
    answer_type: str
    unit: str
    min_length: int | None
    required: bool
    na_allowed: bool
    choices: list[dict]
    columns: list[dict]
    rows: list[dict]
    evidence_spec: dict
    answer: dict | None
    derived_value: Any = None
    comments: list[dict] = field(default_factory=list)
    red_flags: list[dict] = field(default_factory=list)

    @property
    def is_derived(self) -> bool:
        return self.answer_type == AnswerType.DERIVED

    @property
    def answered(self) -> bool:
        return self.answer is not None


@dataclass
class SectionView:
    code: str
    title: str
    items: list[ItemView]

    @property
    def required_count(self) -> int:
        return sum(1 for i in self.items if i.required and not i.is_derived)

    @property
    def answered_count(self) -> int:
        return sum(1 for i in self.items if i.required and not i.is_derived and i.answered)

    @property
    def complete(self) -> bool:
        return self.answered_count >= self.required_count


@dataclass
class InvestigationView:
    investigation: Investigation
    sections: list[SectionView]
    missing: list[str]
    red_flags: list[dict]
    cross_checks: list[dict]
    check_ins: list[SiteCheckIn]
    comments: list[dict]
    derived_error: str = ""
    missing_groups: list[dict] = field(default_factory=list)

    @property
    def editable(self) -> bool:
        return self.investigation.state in EDITABLE_STATES

    def section(self, code: str | None) -> SectionView | None:
        return next((s for s in self.sections if s.code == code), None)


def answer_payload(answer) -> dict:
    """An answer as the API returns it; `version` is what the next save must name."""
    return {"version": answer.version, "value": answer.value,
            "not_applicable": answer.not_applicable, "na_reason": answer.na_reason,
            "evidence": answer.evidence or {}, "answered_by": answer.answered_by_id,
            "updated_at": answer.updated_at}


def finding_payload(finding: dict) -> dict:
    """A stored red flag or cross-check result with its message (and, where it was stored in
    both, its explanation) in the reader's language."""
    zh = _zh()
    return {**finding, "message": (finding.get("message_zh") if zh else None)
            or finding.get("message_en", ""),
            "explanation": (finding.get("explanation_zh") if zh else None)
            or finding.get("explanation", "")}


# Published and retired templates never change (a change is a new version), so their exported
# document is kept per process: the autosave round trip then recomputes derived values
# without re-reading the whole template on every keystroke.
_documents: dict[tuple, dict] = {}
_DOCUMENT_CACHE_SIZE = 64


def template_document(template) -> dict:
    """`template_export(template)`, cached unless the template is still a draft."""
    if template.state == ChecklistTemplateState.DRAFT:
        return template_export(template)
    # The publication time is part of the key: a row id alone may be reused after a rollback.
    key = (template.pk, template.code, template.version, template.published_at)
    document = _documents.get(key)
    if document is None:
        if len(_documents) >= _DOCUMENT_CACHE_SIZE:
            _documents.clear()
        document = _documents[key] = template_export(template)
    return document


_inputs: dict[tuple, frozenset] = {}


def derived_inputs(template) -> frozenset[str]:
    """Codes of the items any derived value is computed from (directly or through another
    derived value): saving any other item cannot change a derived value."""
    key = (template.pk, template.code, template.version, template.published_at)
    if template.state != ChecklistTemplateState.DRAFT and key in _inputs:
        return _inputs[key]
    document = template_document(template)
    items = {i["code"]: i for s in document["sections"] for i in s["items"]}
    specs = {code: item_spec(item) for code, item in items.items()}
    inputs: set[str] = set()
    for item in items.values():
        if item["answer_type"] == AnswerType.DERIVED:
            inputs |= set(compile_rule(item["expression"], items=specs).references)
    found = frozenset(inputs)
    if template.state != ChecklistTemplateState.DRAFT:
        if len(_inputs) >= _DOCUMENT_CACHE_SIZE:
            _inputs.clear()
        _inputs[key] = found
    return found


def derived_values(investigation: Investigation, answers: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """Derived items computed now from the stored answers (N/A answers count as unknown) and
    the figures parsed from the application's documents."""
    if answers is None:
        answers = {a.item.code: a.value for a in investigation.answers.select_related("item")
                   if not a.not_applicable}
    document = template_document(investigation.template)
    derived = {i["code"] for s in document["sections"] for i in s["items"]
               if i["answer_type"] == AnswerType.DERIVED}
    values = rules.derived_values(document, answers, PolicyResolver(),
                                  FiguresResolver(investigation.application_id))
    return {code: values.get(code) for code in derived}


def _choices(raw) -> list[dict]:
    return [{"code": c.get("code"), "label": bilingual(c)} for c in raw or []
            if isinstance(c, dict)]


def investigation_view(*, investigation: Investigation) -> InvestigationView:
    """Everything the form, the reviewer page and the API show, in a handful of queries.

    The caller has already fetched `investigation` through `investigation_get`.
    """
    items = list(Item.objects.filter(template_id=investigation.template_id)
                 .select_related("section").order_by("section__order", "order", "id"))
    answers = {a.item_id: a for a in investigation.answers.all()}
    comments_by_item: dict[int, list[dict]] = {}
    all_comments = []
    for comment in (ItemComment.objects.filter(investigation=investigation)
                    .select_related("author", "item__section").order_by("round", "id")):
        row = {"item": comment.item.code, "section": comment.item.section.code,
               "text": comment.text, "round": comment.round,
               "author": comment.author.display_name, "created_at": comment.created_at}
        comments_by_item.setdefault(comment.item_id, []).append(row)
        all_comments.append(row)
    codes = {item.pk: item.code for item in items}
    derived_error = ""
    try:
        derived = derived_values(investigation, {
            codes[a.item_id]: a.value for a in answers.values() if not a.not_applicable})
    except RuleEvaluationError as exc:  # a broken rule must not hide the form
        derived, derived_error = {}, str(exc)
    flags = [finding_payload(f) for f in investigation.red_flags or []]
    flags_by_item: dict[str, list[dict]] = {}
    for flag in flags:
        flags_by_item.setdefault(flag.get("item") or "", []).append(flag)

    sections: dict[int, SectionView] = {}
    for item in items:
        section = sections.get(item.section_id)
        if section is None:
            section = sections[item.section_id] = SectionView(
                code=item.section.code, title=item.section.title, items=[])
        spec = item.columns or {}
        answer = answers.get(item.pk)
        section.items.append(ItemView(
            item=item, code=item.code, label=item.label,
            help=item.help_zh if _zh() and item.help_zh else item.help_en,
            answer_type=item.answer_type, unit=item.unit, min_length=item.min_length,
            required=item.required, na_allowed=item.na_allowed,
            choices=_choices(item.choices),
            columns=[{"code": c.get("code"), "type": c.get("type"), "label": bilingual(c)}
                     for c in spec.get("columns", []) if isinstance(c, dict)],
            rows=_choices(spec.get("rows")),
            evidence_spec=item.evidence or {},
            answer=answer_payload(answer) if answer is not None else None,
            derived_value=derived.get(item.code),
            comments=comments_by_item.get(item.pk, []),
            red_flags=flags_by_item.get(item.code, [])))
    missing = (investigation_missing(investigation)
               if investigation.state in EDITABLE_STATES else [])
    return InvestigationView(
        investigation=investigation, sections=list(sections.values()),
        missing=[str(m) for m in missing], missing_groups=missing_by_section(missing),
        red_flags=flags,
        cross_checks=[finding_payload(f) for f in investigation.cross_check_findings or []],
        check_ins=list(investigation.check_ins.select_related("officer")),
        comments=all_comments, derived_error=derived_error)


def missing_by_section(missing) -> list[dict]:
    """What stops a submission as one compact summary: a group per section in the form's
    order (then the site visit), each entry the item's label, what is wrong, and the section
    to open so a tap lands on the question."""
    groups: dict = {}
    for entry in missing:
        section = entry.item.section if entry.item is not None else None
        key = section.code if section is not None else None
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"code": key, "title": section.title if section is not None
                                   else _("Site visit"), "entries": []}
        group["entries"].append(
            {"code": entry.item.code if entry.item is not None else "",
             "label": entry.item.label if entry.item is not None else "",
             "reason": entry.reason})
    return sorted(groups.values(), key=lambda g: g["code"] is None)


def investigation_is_reviewable(investigation: Investigation) -> bool:
    return investigation.state == InvestigationState.SUBMITTED
