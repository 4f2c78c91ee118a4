"""The per-application document checklist and the gate built on it (issue 5, "Collection";
domain reference §3.5).

Each active requirement of the application's product becomes a row with a status: missing,
uploaded, checking, passed, failed, needs attention, waived or expired. The gate (a guard on
the application's transitions) blocks a move while a required row of that stage, or of an
earlier one, is anything but passed or waived. Products without requirements are not gated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.documents.models import Document, DocumentRequirement, RequirementWaiver
from apps.documents.states import GATED_STAGES, STAGE_LABELS, ChecklistStatus, DocumentState

L, S = ChecklistStatus, DocumentState
_FROM_STATE = {S.UPLOADED: L.UPLOADED, S.CHECKING: L.CHECKING, S.PASSED: L.PASSED,
               S.FAILED: L.FAILED, S.NEEDS_ATTENTION: L.NEEDS_ATTENTION, S.WAIVED: L.WAIVED}
SATISFIED = frozenset({L.PASSED, L.WAIVED})


def document_status(document: Document, today=None) -> str:
    """A document's checklist status: its state, except that a quarantined file counts as
    failed and one past its expiry date as expired (unless waived)."""
    today = today or timezone.localdate()
    if document.state == S.WAIVED:
        return L.WAIVED
    if document.quarantined:
        return L.FAILED
    if document.expires_on is not None and document.expires_on < today:
        return L.EXPIRED
    return _FROM_STATE[document.state]


@dataclass
class ChecklistRow:
    requirement: DocumentRequirement
    status: str
    documents: list[Document] = field(default_factory=list)
    waiver: RequirementWaiver | None = None
    satisfied_count: int = 0

    @property
    def blocking(self) -> bool:
        return self.requirement.required and self.status not in SATISFIED

    @property
    def status_label(self) -> str:
        return str(L(self.status).label)

    @property
    def stage_label(self) -> str:
        return str(STAGE_LABELS.get(self.requirement.stage, self.requirement.stage))

    @property
    def in_progress(self) -> bool:
        return any(d.state in (S.UPLOADED, S.CHECKING) and not d.quarantined
                   for d in self.documents)


def _row_status(requirement, statuses: list[str], waiver) -> tuple[str, int]:
    if waiver is not None:
        return L.WAIVED, 0
    passed = statuses.count(L.PASSED)
    waived = statuses.count(L.WAIVED)
    if passed >= requirement.min_count:
        return L.PASSED, passed
    if passed + waived >= requirement.min_count:
        return L.WAIVED, passed + waived
    for status in (L.CHECKING, L.UPLOADED, L.NEEDS_ATTENTION, L.EXPIRED, L.FAILED):
        if status in statuses:
            return status, passed + waived
    return L.MISSING, passed + waived


def checklist_rows(application, *, stage: str | None = None,
                   requirements: list[DocumentRequirement] | None = None) -> list[ChecklistRow]:
    """The checklist of `application` (three queries whatever its size). With `stage`, only
    the requirements in force at that transition: its own and earlier stages'. With
    `requirements`, those instead of the product's active rows (a draft being previewed in
    the policy workbench)."""
    if requirements is None:
        requirements = list(DocumentRequirement.objects
                            .filter(product_id=application.product_version.product_id,
                                    is_active=True)
                            .select_related("document_type")
                            .order_by("document_type__code", "stage"))
    if stage is not None:
        position = GATED_STAGES.index(stage)
        requirements = [r for r in requirements if GATED_STAGES.index(r.stage) <= position]
    if not requirements:
        return []
    documents: dict[int, list[Document]] = {}
    for document in (Document.objects.filter(application=application)
                     .select_related("document_type", "uploaded_by", "waived_by")
                     .prefetch_related("checks").order_by("-uploaded_at", "-id")):
        documents.setdefault(document.document_type_id, []).append(document)
    waivers = {w.requirement_id: w for w in RequirementWaiver.objects
               .filter(application=application).select_related("waived_by")}
    today = timezone.localdate()
    rows = []
    for requirement in requirements:
        docs = documents.get(requirement.document_type_id, [])
        status, satisfied = _row_status(requirement, [document_status(d, today) for d in docs],
                                        waivers.get(requirement.pk))
        rows.append(ChecklistRow(requirement=requirement, status=status, documents=docs,
                                 waiver=waivers.get(requirement.pk), satisfied_count=satisfied))
    return rows


def document_checklist(*, viewer, application_id: int) -> tuple[object, list[ChecklistRow]]:
    """The checklist as the viewer may see it (404 for an application they may not see)."""
    from apps.applications.selectors import application_get

    application = application_get(viewer=viewer, application_id=application_id)
    return application, checklist_rows(application)


def documents_gate(stage: str):
    """The guard for one application transition: the reason it is blocked, or None."""
    def guard(application) -> str | None:
        blocking = [row for row in checklist_rows(application, stage=stage) if row.blocking]
        if not blocking:
            return None
        return _("Documents not ready: %(items)s.") % {"items": "; ".join(
            f"{row.requirement.document_type.name} ({row.status_label})" for row in blocking)}
    guard.__name__ = f"documents_gate_{stage}"
    return guard


GATES = {stage: documents_gate(stage) for stage in GATED_STAGES}
