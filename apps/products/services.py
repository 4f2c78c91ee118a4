"""Writes for products: drafting versions, their conditions, publishing. All audited.

Publishing follows four-eyes (domain reference §6.4, policy-table changes): whoever drafted a
version never publishes it. `actor=None` is the system (seed data), never reachable from a
request.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.policy.versioning import (
    version_next_number,
    version_publish,
    version_require_draft,
    version_retire,
)
from apps.products.models import CreditProduct, EntryCondition, ProductVersion

MANAGE_PERMISSION = "products.change_creditproduct"
PUBLISH_PERMISSION = "products.publish_productversion"


def _require(actor, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(_("You may not change credit products."))


@transaction.atomic
def product_create(*, code: str, name_en: str, name_zh: str, description: str = "",
                   actor=None) -> CreditProduct:
    """Register a product; its terms live in versions."""
    _require(actor, MANAGE_PERMISSION)
    product = CreditProduct(code=code, name_en=name_en, name_zh=name_zh, description=description)
    product.full_clean()
    product.save()
    audit_record(action="product.created", actor=actor, subject=product,
                 payload={"code": code, "name_en": name_en, "name_zh": name_zh})
    return product


@transaction.atomic
def product_version_draft(*, product: CreditProduct, actor=None, **terms) -> ProductVersion:
    """Start the next version of a product as a draft, numbered after the highest so far."""
    _require(actor, MANAGE_PERMISSION)
    product = CreditProduct.objects.select_for_update(no_key=True).get(pk=product.pk)
    number = version_next_number(product.versions.all())
    version = ProductVersion(product=product, version=number, created_by=actor, **terms)
    version.full_clean()
    version.save()
    audit_record(action="product_version.created", actor=actor, subject=version,
                 payload={"product": product.code, "version": number,
                          **{key: value for key, value in terms.items()}})
    return version


@transaction.atomic
def entry_condition_add(*, version: ProductVersion, code: str, fact: str, operator: str, value,
                        reason_en: str, reason_zh: str, source_citation: str = "",
                        evidence: str = "G", effective_from: dt.date | None = None,
                        actor=None) -> EntryCondition:
    """Add a condition to a draft version. Published versions are frozen: draft a new one."""
    _require(actor, MANAGE_PERMISSION)
    version = ProductVersion.objects.select_for_update(no_key=True).get(pk=version.pk)
    version_require_draft(version)
    condition = EntryCondition(
        version=version, code=code, fact=fact, operator=operator, value=value,
        reason_en=reason_en, reason_zh=reason_zh, source_citation=source_citation,
        evidence=evidence, effective_from=effective_from,
        position=version.conditions.count())
    condition.full_clean()
    condition.save()
    audit_record(action="entry_condition.added", actor=actor, subject=version,
                 payload={"code": code, "fact": fact, "operator": operator,
                          "value": condition.value, "source": source_citation,
                          "evidence": evidence})
    return condition


def _require_conditions(version: ProductVersion) -> None:
    if not version.conditions.exists():
        raise ValidationError({"conditions": _("A product needs at least one entry condition.")})


def product_version_publish(*, version_id: int, effective_from: dt.date,
                            actor=None) -> ProductVersion:
    """Put a draft in force from a date; the version in force before it retires that day.
    Four-eyes and the rest of the sequence: `apps.policy.versioning.version_publish`."""
    return version_publish(
        model=ProductVersion, pk=version_id, actor=actor, effective_from=effective_from,
        check=_require_conditions,
        payload=lambda v: {"conditions": [c.code for c in v.conditions.all()]})


def product_version_retire(*, version_id: int, effective_to: dt.date | None = None,
                           reason: str = "", actor=None) -> ProductVersion:
    """Withdraw a product version with no successor: no new application is checked against
    it from `effective_to`; past applications keep it."""
    return version_retire(model=ProductVersion, pk=version_id, actor=actor,
                          effective_to=effective_to, reason=reason)


# --- the policy workbench (issue 17): change a draft, start the next one from the one in force

# Terms a policy officer may set on a draft; state, authorship and dates come from transitions.
VERSION_TERMS = ("currency", "amount_min", "amount_max", "term_min_months", "term_max_months",
                 "rate_min", "rate_max", "repayment_methods", "collateral_types", "day_count",
                 "source_citation")
CONDITION_FIELDS = ("fact", "operator", "value", "reason_en", "reason_zh", "source_citation",
                    "evidence", "effective_from")


@transaction.atomic
def product_version_draft_next(*, product_id: int, actor) -> ProductVersion:
    """Start the next draft of a product as a copy of its newest version (terms and entry
    conditions), to be edited and published four-eyes. The actor becomes its drafter."""
    _require(actor, MANAGE_PERMISSION)
    product = CreditProduct.objects.select_for_update(no_key=True).get(pk=product_id)
    latest = product.versions.order_by("-version").first()
    if latest is None:
        raise ValidationError({"product": _("This product has no version to start from.")})
    terms = {name: getattr(latest, name) for name in VERSION_TERMS}
    version = product_version_draft(product=product, actor=actor, **terms)
    for condition in latest.conditions.all():
        EntryCondition(version=version, code=condition.code, position=condition.position,
                       **{name: getattr(condition, name) for name in CONDITION_FIELDS}).save()
    audit_record(action="product_version.copied", actor=actor, subject=version,
                 payload={"from_version": latest.version,
                          "conditions": [c.code for c in version.conditions.all()]})
    return version


@transaction.atomic
def product_version_update(*, version_id: int, actor, **terms) -> ProductVersion:
    """Change the terms of a draft. Every field is checked before the one write, so a refusal
    (ValidationError by field) leaves the draft as it was."""
    _require(actor, MANAGE_PERMISSION)
    unknown = set(terms) - set(VERSION_TERMS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    version = ProductVersion.objects.select_for_update(no_key=True, of=("self",)).get(
        pk=version_id)
    version_require_draft(version)
    before = {name: getattr(version, name) for name in terms}
    for name, value in terms.items():
        setattr(version, name, value)
    version.full_clean()
    version.save()
    audit_record(action="product_version.changed", actor=actor, subject=version,
                 payload={"before": before, "after": terms})
    return version


@transaction.atomic
def entry_condition_update(*, condition_id: int, actor, **fields) -> EntryCondition:
    """Change one condition of a draft (checked whole before the write)."""
    _require(actor, MANAGE_PERMISSION)
    condition = EntryCondition.objects.select_related("version").get(pk=condition_id)
    version = ProductVersion.objects.select_for_update(no_key=True, of=("self",)).get(
        pk=condition.version_id)
    version_require_draft(version)
    unknown = set(fields) - set(CONDITION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    before = {name: getattr(condition, name) for name in fields}
    for name, value in fields.items():
        setattr(condition, name, value)
    condition.full_clean()
    condition.save()
    audit_record(action="entry_condition.changed", actor=actor, subject=version,
                 payload={"code": condition.code, "before": before,
                          "after": {name: getattr(condition, name) for name in fields}})
    return condition


@transaction.atomic
def entry_condition_remove(*, condition_id: int, actor) -> None:
    """Drop one condition from a draft."""
    _require(actor, MANAGE_PERMISSION)
    condition = EntryCondition.objects.get(pk=condition_id)
    version = ProductVersion.objects.select_for_update(no_key=True, of=("self",)).get(
        pk=condition.version_id)
    version_require_draft(version)
    code = condition.code
    condition.delete()
    audit_record(action="entry_condition.removed", actor=actor, subject=version,
                 payload={"code": code})


# --- export / import: a head office ships a product version to branches ----------------------

EXPORT_FORMAT = "credence.product-version/1"


def product_version_export(version: ProductVersion) -> dict:
    """The version's terms and entry conditions as a plain YAML/JSON-ready document."""
    def plain(value):
        return str(value) if isinstance(value, Decimal) else value

    product = version.product
    return {
        "format": EXPORT_FORMAT,
        "product": {"code": product.code, "name": {"en": product.name_en, "zh": product.name_zh},
                    "description": product.description},
        "version": version.version,
        "terms": {name: plain(getattr(version, name)) for name in VERSION_TERMS},
        "conditions": [{
            "code": c.code, "fact": c.fact, "operator": c.operator, "value": c.value,
            "reason": {"en": c.reason_en, "zh": c.reason_zh},
            "source_citation": c.source_citation, "evidence": c.evidence,
            "effective_from": c.effective_from.isoformat() if c.effective_from else None,
        } for c in version.conditions.order_by("position", "id")],
    }


def _import_errors(data) -> dict:
    """Every problem of the document, by path, before anything is written."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        return {"format": [_("This is not a product-version export.")]}
    errors: dict[str, list[str]] = {}
    product = data.get("product") or {}
    if not product.get("code"):
        errors["product.code"] = [_("The product code is missing.")]
    terms = data.get("terms") or {}
    candidate = ProductVersion(product=CreditProduct(code="x"), version=1,
                               **{k: v for k, v in terms.items() if k in VERSION_TERMS})
    try:
        candidate.full_clean(exclude=["product", "version"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[f"terms.{field}"] = messages
    for index, row in enumerate(data.get("conditions") or []):
        reason = row.get("reason") or {}
        condition = EntryCondition(
            code=row.get("code") or "", fact=row.get("fact") or "",
            operator=row.get("operator") or "", value=row.get("value"),
            reason_en=reason.get("en") or "", reason_zh=reason.get("zh") or "",
            source_citation=row.get("source_citation") or "",
            evidence=row.get("evidence") or "G", effective_from=row.get("effective_from"))
        try:
            condition.full_clean(exclude=["version"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"conditions.{index}.{field}"] = messages
    if not data.get("conditions"):
        errors["conditions"] = [_("A product needs at least one entry condition.")]
    return errors


@transaction.atomic
def product_version_import(data: dict, *, actor) -> ProductVersion:
    """A new draft of the document's product (registered first if this office lacks it), with
    its terms and conditions. Checked whole first; a bad file leaves nothing behind. The draft
    is published four-eyes like any other."""
    _require(actor, MANAGE_PERMISSION)
    errors = _import_errors(data)
    if errors:
        raise ValidationError(errors)
    info = data["product"]
    product = CreditProduct.objects.filter(code=info["code"]).first()
    if product is None:
        name = info.get("name") or {}
        product = product_create(code=info["code"], name_en=name.get("en") or info["code"],
                                 name_zh=name.get("zh") or info["code"],
                                 description=info.get("description") or "", actor=actor)
    terms = {k: v for k, v in data["terms"].items() if k in VERSION_TERMS}
    version = product_version_draft(product=product, actor=actor, **terms)
    for row in data["conditions"]:
        reason = row.get("reason") or {}
        entry_condition_add(
            version=version, code=row["code"], fact=row["fact"], operator=row["operator"],
            value=row["value"], reason_en=reason.get("en", ""), reason_zh=reason.get("zh", ""),
            source_citation=row.get("source_citation") or "", evidence=row.get("evidence", "G"),
            effective_from=(dt.date.fromisoformat(row["effective_from"])
                            if row.get("effective_from") else None),
            actor=actor)
    return version
