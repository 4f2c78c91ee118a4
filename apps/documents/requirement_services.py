"""Writes for document requirements in the policy workbench (issue 17): a product's next
version drafted as a copy of what is in force, edited whole, published four-eyes (applied to
the requirement rows every reader uses, in the publishing transaction), retired; export and
import. All audited; the publish/retire sequence is the shared one (`apps.policy.versioning`).

Requirements are policy data (domain reference §3.5, §0.2): what a product needs of each
document type before which move.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.documents.models import DocumentRequirement, DocumentRequirementSet, DocumentType
from apps.documents.states import GATED_STAGES
from apps.policy.versioning import (
    version_next_number,
    version_publish,
    version_require_draft,
    version_retire,
)
from apps.products.models import CreditProduct

MANAGE_PERMISSION = "documents.add_documentrequirementset"
ROW_FIELDS = ("stage", "required", "min_count", "accepted_formats", "validity_days", "checks",
              "evidence", "source_citation")
EXPORT_FORMAT = "credence.document-requirements/1"


def _require(actor) -> None:
    if actor is not None and not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(_("You may not change document requirements."))


def requirement_rows_in_force(product_id: int) -> list[dict]:
    """The active requirement rows of a product as plain rows (what applications meet now)."""
    return [{"document_type": r.document_type.code,
             **{name: getattr(r, name) for name in ROW_FIELDS}}
            for r in DocumentRequirement.objects.filter(product_id=product_id, is_active=True)
            .select_related("document_type").order_by("document_type__code", "stage")]


def requirements_from_rows(product: CreditProduct, rows: list[dict]
                           ) -> list[DocumentRequirement]:
    """Unsaved requirement objects for rows (for checks and previews), in row order."""
    types = {t.code: t for t in DocumentType.objects.filter(
        code__in=[row.get("document_type") for row in rows if isinstance(row, dict)])}
    made = []
    for row in rows:
        requirement = DocumentRequirement(
            product=product, document_type=types.get(row.get("document_type")),
            **{name: row[name] for name in ROW_FIELDS if name in row})
        made.append(requirement)
    return made


def requirement_rows_problems(product: CreditProduct, rows) -> dict:
    """Every problem of a list of rows, by path ("rows.2.checks"), before anything is written."""
    if not isinstance(rows, list):
        return {"rows": [_("The requirements are a list of rows.")]}
    errors: dict[str, list[str]] = {}
    seen: set[tuple] = set()
    types = set(DocumentType.objects.values_list("code", flat=True))
    for index, row in enumerate(rows):
        path = f"rows.{index}"
        if not isinstance(row, dict):
            errors[path] = [_("A row is an object.")]
            continue
        unknown = set(row) - {"document_type", *ROW_FIELDS}
        if unknown:
            errors[path] = [_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(
                unknown))}]
            continue
        if row.get("document_type") not in types:
            errors[f"{path}.document_type"] = [_("Unknown document type %(code)s.")
                                               % {"code": row.get("document_type")}]
            continue
        if row.get("stage", "send_to_review") not in GATED_STAGES:
            errors[f"{path}.stage"] = [_("Choose one of: %(stages)s.")
                                       % {"stages": ", ".join(GATED_STAGES)}]
            continue
        key = (row["document_type"], row.get("stage", "send_to_review"))
        if key in seen:
            errors[f"{path}.stage"] = [_("This document type is already required at this "
                                         "stage in another row.")]
        seen.add(key)
        requirement = requirements_from_rows(product, [row])[0]
        try:
            requirement.full_clean(validate_constraints=False)
        except (ValidationError, TypeError) as exc:
            for field, messages in getattr(exc, "message_dict", {"$": [str(exc)]}).items():
                errors[f"{path}.{field}"] = messages
    return errors


def _plain(rows: list[dict]) -> list[dict]:
    """Rows as stored: every field present, in a fixed order."""
    defaults = {name: DocumentRequirement._meta.get_field(name).get_default()
                for name in ROW_FIELDS}
    return [{"document_type": row["document_type"],
             **{name: row.get(name, defaults[name]) for name in ROW_FIELDS}} for row in rows]


@transaction.atomic
def requirement_set_draft(*, product_id: int, actor, rows: list[dict] | None = None,
                          source_citation: str = "") -> DocumentRequirementSet:
    """The product's next version as a draft: `rows`, or a copy of what is in force."""
    _require(actor)
    product = CreditProduct.objects.select_for_update(no_key=True).get(pk=product_id)
    rows = requirement_rows_in_force(product.pk) if rows is None else rows
    errors = requirement_rows_problems(product, rows)
    if errors:
        raise ValidationError(errors)
    draft = DocumentRequirementSet(
        product=product, created_by=actor, rows=_plain(rows), source_citation=source_citation,
        version=version_next_number(DocumentRequirementSet.objects.filter(product=product)))
    draft.full_clean()
    draft.save()
    audit_record(action="document_requirements.created", actor=actor, subject=draft,
                 payload={"product": product.code, "version": draft.version,
                          "rows": len(draft.rows)})
    return draft


@transaction.atomic
def requirement_set_save(*, set_id: int, rows, actor) -> DocumentRequirementSet:
    """Replace a draft's rows, checked whole first (errors by path; nothing half-saved)."""
    _require(actor)
    draft = DocumentRequirementSet.objects.select_for_update(no_key=True, of=("self",)) \
        .select_related("product").get(pk=set_id)
    version_require_draft(draft)
    errors = requirement_rows_problems(draft.product, rows)
    if errors:
        raise ValidationError(errors)
    before = draft.rows
    draft.rows = _plain(rows)
    draft.save()
    audit_record(action="document_requirements.changed", actor=actor, subject=draft,
                 payload={"product": draft.product.code, "version": draft.version,
                          "before": before, "after": draft.rows})
    return draft


def _apply(draft: DocumentRequirementSet) -> None:
    """The published rows become the requirement rows readers use: upsert by type × stage,
    deactivate the rest (waivers keep pointing at them)."""
    types = {t.code: t for t in DocumentType.objects.all()}
    kept = []
    for row in draft.rows:
        requirement, _created = DocumentRequirement.objects.update_or_create(
            product=draft.product, document_type=types[row["document_type"]],
            stage=row["stage"],
            defaults={**{name: row[name] for name in ROW_FIELDS if name != "stage"},
                      "is_active": True})
        kept.append(requirement.pk)
    DocumentRequirement.objects.filter(product=draft.product).exclude(pk__in=kept) \
        .update(is_active=False)


def _check(draft: DocumentRequirementSet) -> None:
    errors = requirement_rows_problems(draft.product, draft.rows)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def requirement_set_publish(*, set_id: int, actor,
                            effective_from: dt.date | None = None) -> DocumentRequirementSet:
    """Put a draft in force (four-eyes) and apply it to the product's requirement rows now.
    Requirements take effect when published: a later start date is refused (nothing would
    apply them on that day)."""
    def check(draft: DocumentRequirementSet) -> None:
        # After the shared permission (403) and state (409) checks, like every kind's own.
        if effective_from is not None and effective_from > timezone.localdate():
            raise ValidationError({"effective_from": _(
                "Document requirements apply when they are published: choose today.")})
        _check(draft)

    published = version_publish(
        model=DocumentRequirementSet, pk=set_id, actor=actor, effective_from=effective_from,
        check=check, payload=lambda s: {"rows": len(s.rows)})
    _apply(published)
    return published


@transaction.atomic
def requirement_set_retire(*, set_id: int, actor, effective_to: dt.date | None = None,
                           reason: str = "") -> DocumentRequirementSet:
    """Withdraw a product's requirements without a successor: from today the product is not
    gated on documents (its rows are deactivated, never deleted)."""
    retired = version_retire(model=DocumentRequirementSet, pk=set_id, actor=actor,
                             effective_to=effective_to, reason=reason)
    DocumentRequirement.objects.filter(product_id=retired.product_id).update(is_active=False)
    return retired


def requirement_set_export(requirement_set: DocumentRequirementSet) -> dict:
    return {"format": EXPORT_FORMAT, "product": requirement_set.product.code,
            "version": requirement_set.version,
            "source_citation": requirement_set.source_citation, "rows": requirement_set.rows}


@transaction.atomic
def requirement_set_import(data, *, actor) -> DocumentRequirementSet:
    """A new draft for the document's product (which must exist here), checked whole."""
    _require(actor)
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError({"format": _("This is not a document-requirements export.")})
    product = CreditProduct.objects.filter(code=data.get("product")).first()
    if product is None:
        raise ValidationError({"product": _("Unknown product %(code)s.")
                               % {"code": data.get("product")}})
    return requirement_set_draft(product_id=product.pk, actor=actor,
                                 rows=data.get("rows") or [],
                                 source_citation=data.get("source_citation") or "")
