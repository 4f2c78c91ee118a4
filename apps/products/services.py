"""Writes for products: drafting versions, their conditions, publishing. All audited.

Publishing follows four-eyes (domain reference §6.4, policy-table changes): whoever drafted a
version never publishes it. `actor=None` is the system (seed data), never reachable from a
request.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import transition_check
from apps.products.models import CreditProduct, EntryCondition, ProductVersion
from apps.products.states import ProductVersionState

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
    number = (product.versions.aggregate(n=Max("version"))["n"] or 0) + 1
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
    if not version.is_editable:
        raise TransitionConflict(detail=_("A published version cannot change; draft a new one."))
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


@transaction.atomic
def product_version_publish(*, version_id: int, effective_from: dt.date,
                            actor=None) -> ProductVersion:
    """Put a draft in force from a date; the version in force before it retires that day."""
    version = (ProductVersion.objects.select_for_update(no_key=True, of=("self",))
               .select_related("product").get(pk=version_id))
    if actor is not None:
        _require(actor, PUBLISH_PERMISSION)
        if version.created_by_id == actor.pk:
            raise PermissionDenied(_("Four-eyes rule: the person who drafted a version "
                                     "cannot publish it."))
        transition_check(version.publish, actor=actor)
    elif version.state != ProductVersionState.DRAFT:
        raise TransitionConflict(version.publish)
    if not version.conditions.exists():
        raise ValidationError({"conditions": _("A product needs at least one entry condition.")})

    previous = (ProductVersion.objects.select_for_update(no_key=True)
                .filter(product=version.product, state=ProductVersionState.PUBLISHED)
                .exclude(pk=version.pk))
    for old in previous:
        old.retire(effective_to=effective_from)
        old.save()
        audit_record(action="product_version.retired", actor=actor, subject=old,
                     payload={"effective_to": effective_from, "superseded_by": version.version})
    version.publish(by=actor, at=timezone.now(), effective_from=effective_from)
    version.save()
    audit_record(action="product_version.published", actor=actor, subject=version,
                 payload={"effective_from": effective_from,
                          "conditions": [c.code for c in version.conditions.all()]})
    return version
