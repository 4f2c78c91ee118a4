"""Writes for enterprises, persons and relationships: validate, lock, check, save, audit.

Every service is keyword-only and atomic, and records its event with `audit_record` in the
same transaction. `actor=None` means the system (demo seed, imports); a user actor must hold
the model permission and see the branch concerned.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.org.models import Branch
from apps.parties.models import (
    AliasKind,
    Enterprise,
    PartyAlias,
    Person,
    Relationship,
    RelationshipKind,
    normalise_alias,
)
from apps.parties.money import YUAN_PER_WAN, Currency
from apps.parties.selectors import person_find, size_standard_rules
from apps.parties.size import SizeFigures, SizeResult, classify_size
from apps.parties.validators import normalise_resident_id, normalise_uscc

# What enterprise_update may change. Size fields are derived; branch moves go through here
# too, so they are audited like any other change.
ENTERPRISE_EDITABLE = (
    "name", "uscc", "industry", "industry_code", "registration_date", "registered_address",
    "operating_address", "operating_lat", "operating_lng", "employees", "annual_revenue",
    "total_assets", "financials_currency", "tax_credit_rating", "branch",
)
# A change to any of these can move the enterprise to another size class.
_SIZE_INPUTS = {"industry", "industry_code", "employees", "annual_revenue", "total_assets",
                "financials_currency"}
_SIZE_FIELDS = ("size_class", "size_standard_version", "size_explanation", "size_classified_on")


def _require(actor, permission: str, *, branch_ids: set[int | None] = frozenset()) -> None:
    """Refuse a user without `permission` or who cannot see every branch in `branch_ids`."""
    if actor is None:  # the system: seed and imports
        return
    if not actor.has_perm(permission):
        raise PermissionDenied(_("You may not do this."))
    visible = visible_branch_ids(viewer=actor)
    if visible is not None and not set(branch_ids) <= visible:
        raise PermissionDenied(_("This customer is managed by a branch you cannot see."))


def _money(value) -> Decimal | None:
    """Accept Decimal, int or str; refuse float, which has already lost cents."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise ValidationError(_("Amounts must be exact decimals, not floating point."))
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def enterprise_size(enterprise: Enterprise, *, on: dt.date | None = None) -> SizeResult:
    """Classify under the SME size standard in force on `on` (《中小企业划型标准规定》, §5.5).

    The standard is stated in 万元 RMB; figures in another currency are not converted here
    (no FX policy yet), so such an enterprise stays unclassified and says why.
    """
    rows = size_standard_rules(on=on)
    if enterprise.financials_currency != Currency.CNY:
        version = rows[0].version if rows else ""
        return SizeResult("", version, f"{version}: figures are in "
                          f"{enterprise.financials_currency}; the standard is in 万元 RMB")

    def wan(amount):
        return None if amount is None else Decimal(amount) / YUAN_PER_WAN

    figures = SizeFigures(industry_key=enterprise.industry_key, employees=enterprise.employees,
                          revenue_wan=wan(enterprise.annual_revenue),
                          assets_wan=wan(enterprise.total_assets))
    return classify_size(rows, figures)


def _apply_size(enterprise: Enterprise, *, on: dt.date | None = None) -> SizeResult:
    on = on or timezone.localdate()
    result = enterprise_size(enterprise, on=on)
    enterprise.size_class = result.size_class
    enterprise.size_standard_version = result.version
    enterprise.size_explanation = result.explanation
    enterprise.size_classified_on = on
    return result


def _clean_enterprise_input(data: dict) -> dict:
    if "uscc" in data:
        data["uscc"] = normalise_uscc(data["uscc"])
    for field in ("annual_revenue", "total_assets"):
        if field in data:
            data[field] = _money(data[field])
    for field in ("operating_lat", "operating_lng"):
        if isinstance(data.get(field), float):
            # Coordinates from a map widget may arrive as floats; the text form is what the
            # user saw, and six places is the column's precision.
            data[field] = Decimal(str(data[field])).quantize(Decimal("0.000001"))
    return data


@transaction.atomic
def enterprise_create(*, actor, name: str, uscc: str, industry: str, branch: Branch,
                      industry_code: str = "", registration_date: dt.date | None = None,
                      registered_address: str = "", operating_address: str = "",
                      operating_lat=None, operating_lng=None, employees: int | None = None,
                      annual_revenue=None, total_assets=None,
                      financials_currency: str = Currency.CNY,
                      tax_credit_rating: str = "") -> Enterprise:
    """Register a business customer at its managing branch.

    The USCC must pass the GB 32100-2015 check character and be unique; the size class is
    computed from the size standard in force today and stored with its version (§5.5).
    """
    _require(actor, "parties.add_enterprise", branch_ids={branch.pk})
    data = _clean_enterprise_input({
        "name": name, "uscc": uscc, "industry": industry, "industry_code": industry_code,
        "registration_date": registration_date, "registered_address": registered_address,
        "operating_address": operating_address, "operating_lat": operating_lat,
        "operating_lng": operating_lng, "employees": employees,
        "annual_revenue": annual_revenue, "total_assets": total_assets,
        "financials_currency": financials_currency, "tax_credit_rating": tax_credit_rating,
    })
    enterprise = Enterprise(branch=branch, **data)
    _apply_size(enterprise)
    enterprise.full_clean()
    enterprise.save()
    audit_record(action="enterprise.created", actor=actor, subject=enterprise, payload={
        "name": enterprise.name, "uscc": enterprise.uscc, "industry": enterprise.industry_key,
        "branch": branch.code, "size_class": enterprise.size_class,
        "size_standard_version": enterprise.size_standard_version,
    })
    return enterprise


def _audit_value(value):
    return value.code if isinstance(value, Branch) else value


@transaction.atomic
def enterprise_update(*, actor, enterprise_id: int, **changes) -> Enterprise:
    """Change an enterprise's details; the trail keeps old and new value of each change.

    Only ENTERPRISE_EDITABLE fields may be given. When an input of the size standard changes,
    the size class is recomputed under the standard in force today (§5.5, §0.2); a move to
    another branch needs the actor to see both branches.
    """
    unknown = set(changes) - set(ENTERPRISE_EDITABLE)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s")
                              % {"fields": ", ".join(sorted(unknown))})
    # Lock first: two officers editing figures must not interleave their size recomputation.
    enterprise = (Enterprise.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("branch").get(pk=enterprise_id))
    branches = {enterprise.branch_id}
    if "branch" in changes:
        branches.add(changes["branch"].pk)
    _require(actor, "parties.change_enterprise", branch_ids=branches)

    changes = _clean_enterprise_input(dict(changes))
    diff = {}
    for field, new in changes.items():
        old = getattr(enterprise, field)
        if old != new:
            diff[field] = {"old": _audit_value(old), "new": _audit_value(new)}
            setattr(enterprise, field, new)
    if not diff:
        return enterprise  # nothing changed: no save, no event

    if _SIZE_INPUTS & set(diff):
        before = {f: getattr(enterprise, f) for f in _SIZE_FIELDS}
        _apply_size(enterprise)
        for field in ("size_class", "size_standard_version"):
            if before[field] != getattr(enterprise, field):
                diff[field] = {"old": before[field], "new": getattr(enterprise, field)}
    enterprise.full_clean()
    enterprise.save()
    audit_record(action="enterprise.updated", actor=actor, subject=enterprise,
                 payload={"changes": diff})
    return enterprise


@transaction.atomic
def person_create(*, actor, name: str, resident_id: str, phone: str = "") -> Person:
    """Record a natural person (controller, legal representative, spouse, guarantor).

    The ID number must pass GB 11643-1999 (check digit, birth date) and is unique by its keyed
    hash. The trail gets the masked number only: audit rows are never erased, and an ID
    number is sensitive personal information (PIPL art. 28).
    """
    _require(actor, "parties.add_person")
    resident_id = normalise_resident_id(resident_id)
    if person_find(resident_id=resident_id) is not None:
        raise ValidationError({"resident_id": _("A person with this ID number exists.")})
    person = Person(name=name, resident_id=resident_id, phone=phone)
    person.full_clean(exclude=["resident_id_hash"])
    person.save()
    audit_record(action="person.created", actor=actor, subject=person,
                 payload={"name": name, "resident_id": person.masked_resident_id})
    return person


def _party_payload(party) -> dict | None:
    if party is None:
        return None
    if isinstance(party, Person):
        return {"type": "person", "id": party.pk, "name": party.name}
    return {"type": "enterprise", "id": party.pk, "name": party.name, "uscc": party.uscc}


@transaction.atomic
def relationship_add(*, actor, kind: str, from_person: Person | None = None,
                     from_enterprise: Enterprise | None = None,
                     to_enterprise: Enterprise | None = None, to_person: Person | None = None,
                     stake_percent=None, note: str = "") -> Relationship:
    """Add an edge "<from> is <kind> of <to>" to the borrower graph.

    Shareholder stakes are in (0, 100] and the recorded stakes of one enterprise may not add
    up to more than 100 %. Spouse-of is symmetric, so the reverse edge counts as a duplicate.
    The actor must see the branch of every enterprise on the edge.
    """
    enterprises = [e for e in (from_enterprise, to_enterprise) if e is not None]
    _require(actor, "parties.add_relationship", branch_ids={e.branch_id for e in enterprises})
    stake = _money(stake_percent)
    relationship = Relationship(kind=kind, from_person=from_person,
                                from_enterprise=from_enterprise, to_enterprise=to_enterprise,
                                to_person=to_person, stake_percent=stake, note=note)
    # Constraints would refuse these too; checking first gives a readable message.
    relationship.full_clean()

    if kind == RelationshipKind.SHAREHOLDER and to_enterprise is not None:
        # Lock the target: two concurrent stakes must not both pass the 100 % check.
        Enterprise.objects.select_for_update(no_key=True).filter(pk=to_enterprise.pk).first()
        held = (Relationship.objects.filter(kind=kind, to_enterprise=to_enterprise)
                .aggregate(total=Sum("stake_percent"))["total"] or Decimal(0))
        if held + stake > 100:
            raise ValidationError({"stake_percent": _(
                "Recorded stakes would add up to %(total)s %%, more than 100 %%."
            ) % {"total": held + stake}})
    if kind == RelationshipKind.SPOUSE_OF and Relationship.objects.filter(
            kind=kind, from_person=to_person, to_person=from_person).exists():
        raise ValidationError(_("These two persons are already recorded as spouses."))

    relationship.save()
    audit_record(action="relationship.added", actor=actor, subject=relationship, payload={
        "kind": kind, "from": _party_payload(relationship.source),
        "to": _party_payload(relationship.target), "stake_percent": stake, "note": note,
    })
    return relationship


@transaction.atomic
def party_alias_add(*, actor, kind: str, value: str, enterprise: Enterprise | None = None,
                    person: Person | None = None, source: str = "") -> PartyAlias:
    """Record a name or bank account a party is known by (issue 19: the statement check
    matches counterparties to the party graph by these). The actor must be allowed to change
    record aliases (`parties.add_partyalias`: account managers, team leads, risk reviewers) and
    see the party's branch; a person's branches are those of the enterprises it relates to,
    and a person related to no enterprise takes no alias (no branch to check it against)."""
    if enterprise is not None:
        _require(actor, "parties.add_partyalias", branch_ids={enterprise.branch_id})
    else:
        branches = set(Enterprise.objects.filter(relationships_in__from_person=person)
                       .values_list("branch_id", flat=True))
        if not branches:
            raise ValidationError(_("Record this person's relation to an enterprise first."))
        _require(actor, "parties.add_partyalias", branch_ids=branches)
    alias = PartyAlias(kind=kind, value=str(value or "").strip(), enterprise=enterprise,
                       person=person, source=source)
    if kind in AliasKind.values and PartyAlias.objects.filter(
            enterprise=enterprise, person=person, kind=kind,
            normalised=normalise_alias(kind, alias.value)).exists():
        raise ValidationError({"value": _("This is already recorded for this party.")})
    alias.full_clean(exclude=["normalised"])
    alias.save()
    audit_record(action="party_alias.added", actor=actor, subject=alias, payload={
        "party": _party_payload(enterprise or person), "kind": kind,
        # an account number is shown masked in the trail, as on statements
        "value": alias.value if kind != "account" else f"****{alias.normalised[-4:]}",
        "source": source},
        branch_id=enterprise.branch_id if enterprise is not None else None,
        enterprise_id=enterprise.pk if enterprise is not None else None)
    return alias
