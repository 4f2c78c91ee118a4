"""Reads for post-loan inspections, scoped to what the viewer may see (branch scope, ASVS
8.2.2: no IDOR on any route), and the checklist picture the form and the reviewer show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.investigations.expressions import RuleEvaluationError
from apps.investigations.models import AnswerType, Item
from apps.investigations.selectors import (
    ItemView,
    SectionView,
    _choices,
    _zh,
    answer_payload,
    bilingual,
    finding_payload,
)
from apps.investigations.selectors import template_document as _template_document
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_states import (
    DONE_INSPECTION_STATES,
    OPEN_INSPECTION_STATES,
    InspectionState,
)

template_document = _template_document  # published templates never change: cached per process


def inspection_list(*, viewer: User) -> QuerySet[Inspection]:
    """Inspections of the loans in the viewer's branches (all branches for auditors)."""
    qs = Inspection.objects.select_related("loan", "loan__enterprise", "officer", "template")
    if not viewer.is_authenticated:
        return qs.none()
    branch_ids = visible_branch_ids(viewer=viewer)
    return qs if branch_ids is None else qs.filter(branch_id__in=branch_ids)


def inspection_get(*, viewer: User, inspection_id: int) -> Inspection:
    """One inspection, or 404 when it does not exist or is outside the viewer's branches."""
    return get_object_or_404(inspection_list(viewer=viewer), pk=inspection_id)


def inspections_overdue(on: dt.date | None = None) -> QuerySet[Inspection]:
    """Inspections not submitted by their due date as of `on` (today): scheduled or in
    progress past due, and those already marked overdue. For the signals side and metrics."""
    on = on or timezone.localdate()
    return Inspection.objects.filter(state__in=OPEN_INSPECTION_STATES, due_date__lt=on)


def inspections_due_for(*, viewer: User, horizon_days: int = 30) -> QuerySet[Inspection]:
    """The officer's work list: their open inspections due within the horizon, overdue
    first; a team lead also sees the branch's overdue ones (escalated to them)."""
    horizon = timezone.localdate() + dt.timedelta(days=horizon_days)
    qs = inspection_list(viewer=viewer).filter(state__in=OPEN_INSPECTION_STATES)
    mine = qs.filter(officer=viewer, due_date__lte=horizon)
    if viewer.has_role(Role.TEAM_LEAD):
        mine = mine | qs.filter(state=InspectionState.OVERDUE)
    return mine.order_by("due_date", "id")


def inspections_to_review(*, viewer: User) -> QuerySet[Inspection]:
    """Submitted inspections the viewer may review (never their own)."""
    if not viewer.has_role(Role.TEAM_LEAD, Role.RISK_REVIEWER):
        return Inspection.objects.none()
    return (inspection_list(viewer=viewer).filter(state=InspectionState.SUBMITTED)
            .exclude(officer=viewer).exclude(submitted_by=viewer).order_by("due_date", "id"))


def inspections_for_loan(*, viewer: User, loan) -> dict[str, list[Inspection]]:
    """The loan page's panel: past (submitted or reviewed) and upcoming inspections."""
    qs = inspection_list(viewer=viewer).filter(loan=loan)
    return {"past": list(qs.filter(state__in=DONE_INSPECTION_STATES).order_by("-due_date")),
            "upcoming": list(qs.filter(state__in=OPEN_INSPECTION_STATES).order_by("due_date"))}


def officer_on_time_rate(*, officer_id: int, since: dt.date | None = None) -> dict:
    """§4.5 on-time checks: share of the officer's inspections due (up to today) that were
    submitted by their due date."""
    today = timezone.localdate()
    due = Inspection.objects.filter(officer_id=officer_id, due_date__lt=today)
    if since:
        due = due.filter(due_date__gte=since)
    total = due.count()
    on_time = sum(1 for i in due.exclude(submitted_at=None) if i.done_on_time)
    return {"due": total, "on_time": on_time,
            "rate": (on_time / total) if total else None}


# --- the checklist picture -----------------------------------------------------------------


@dataclass
class InspectionView:
    inspection: Inspection
    sections: list[SectionView]
    missing: list[str]
    red_flags: list[dict]
    cross_checks: list[dict]
    derived_error: str = ""

    def section(self, code: str | None) -> SectionView | None:
        return next((s for s in self.sections if s.code == code), None)


def inspection_view(*, inspection: Inspection) -> InspectionView:
    """The sections and items of the inspection's template with the answers given, built
    with the investigation form's item model, so the same item partial renders both."""
    from apps.investigations import rules
    from apps.investigations.evidence import FiguresResolver
    from apps.investigations.policy import PolicyResolver
    from apps.monitoring.inspection_services import inspection_missing

    items = list(Item.objects.filter(template_id=inspection.template_id)
                 .select_related("section").order_by("section__order", "order", "id"))
    answers = {a.item_id: a for a in inspection.answers.all()}
    codes = {item.pk: item.code for item in items}
    derived_error = ""
    try:
        document = template_document(inspection.template)
        values = rules.derived_values(
            document, {codes[a.item_id]: a.value for a in answers.values()
                       if not a.not_applicable},
            PolicyResolver(), FiguresResolver(inspection.application_id))
    except RuleEvaluationError as exc:  # a broken rule must not hide the form
        values, derived_error = {}, str(exc)
    flags = [finding_payload(f) for f in inspection.red_flags or []]
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
            required=item.required, na_allowed=item.na_allowed, choices=_choices(item.choices),
            columns=[{"code": c.get("code"), "type": c.get("type"), "label": bilingual(c)}
                     for c in spec.get("columns", []) if isinstance(c, dict)],
            rows=_choices(spec.get("rows")), evidence_spec=item.evidence or {},
            answer=answer_payload(answer) if answer is not None else None,
            derived_value=(values.get(item.code) if item.answer_type == AnswerType.DERIVED
                           else None),
            red_flags=flags_by_item.get(item.code, [])))
    return InspectionView(
        inspection=inspection, sections=list(sections.values()),
        missing=[str(m) for m in inspection_missing(inspection)] if inspection.is_editable
        else [],
        red_flags=flags,
        cross_checks=[finding_payload(f) for f in inspection.cross_check_findings or []],
        derived_error=derived_error)
