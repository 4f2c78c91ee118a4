"""Writes for policy values in the policy workbench (issue 17): draft the next version of a
threshold, change the draft, publish it four-eyes, retire it; export and import them.

A threshold is policy data (domain reference §0.2): the draft names its source and evidence
tag, a second policy officer puts it in force from a date, and the version before it ends that
day. The publish/retire sequence is the shared one (`apps.policy.versioning`).
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.investigations.models import PolicyValue
from apps.policy.versioning import (
    version_next_number,
    version_publish,
    version_require_draft,
    version_retire,
)

DRAFT_PERMISSION = "investigations.add_policyvalue"
# What a policy officer sets on a draft; state, authorship and the end date come from the
# transitions.
FIELDS = ("value", "unit", "effective_from", "evidence", "source_citation", "description_en",
          "description_zh")
EXPORT_FORMAT = "credence.policy-values/1"


def _require(actor) -> None:
    if actor is not None and not actor.has_perm(DRAFT_PERMISSION):
        raise PermissionDenied(_("You may not change policy values."))


@transaction.atomic
def policy_value_draft(*, key: str, actor, **fields) -> PolicyValue:
    """Draft the next version of `key` (a new key starts at 1), checked whole before the write.
    Without a value, the draft starts as a copy of the newest version."""
    _require(actor)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    # Lock the key's versions so two drafts never take the same number.
    series = PolicyValue.all_versions.select_for_update(no_key=True).filter(key=key)
    latest = series.order_by("-version").first()
    start = {name: getattr(latest, name) for name in FIELDS} if latest is not None else {}
    start["effective_from"] = timezone.localdate()  # a change starts now, never in the past
    value = PolicyValue(key=key, version=version_next_number(series), created_by=actor,
                        **{**start, **fields})
    value.drafting = True
    value.full_clean()
    value.save()
    audit_record(action="policy_value.created", actor=actor, subject=value,
                 payload={"key": key, "version": value.version,
                          **{name: getattr(value, name) for name in FIELDS}})
    return value


@transaction.atomic
def policy_value_update(*, value_id: int, actor, **fields) -> PolicyValue:
    """Change a draft; a refusal (ValidationError by field) leaves it as it was."""
    _require(actor)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    value = PolicyValue.all_versions.select_for_update(no_key=True).get(pk=value_id)
    version_require_draft(value)
    before = {name: getattr(value, name) for name in fields}
    for name, new in fields.items():
        setattr(value, name, new)
    value.full_clean()
    value.save()
    audit_record(action="policy_value.changed", actor=actor, subject=value,
                 payload={"key": value.key, "version": value.version, "before": before,
                          "after": fields})
    return value


def policy_value_publish(*, value_id: int, actor, effective_from: dt.date | None = None
                         ) -> PolicyValue:
    """Put a drafted threshold in force (four-eyes); the key's previous version ends that day.
    The draft's own start date is used when none is given."""
    if effective_from is None:
        effective_from = PolicyValue.all_versions.get(pk=value_id).effective_from
    return version_publish(model=PolicyValue, pk=value_id, actor=actor,
                           effective_from=effective_from,
                           payload=lambda v: {"value": v.value, "unit": v.unit,
                                              "evidence": v.evidence,
                                              "source": v.source_citation})


def policy_value_retire(*, value_id: int, actor, effective_to: dt.date | None = None,
                        reason: str = "") -> PolicyValue:
    """Withdraw a threshold without a successor: from `effective_to` no rule reads it."""
    return version_retire(model=PolicyValue, pk=value_id, actor=actor,
                          effective_to=effective_to, reason=reason)


# --- export / import: a head office ships thresholds to branches ------------------------------

def policy_values_export(*, keys: list[str] | None = None) -> dict:
    """Every published or retired version (of `keys`, or all), as a plain YAML/JSON document."""
    rows = PolicyValue.objects.order_by("key", "version")
    if keys:
        rows = rows.filter(key__in=keys)
    return {"format": EXPORT_FORMAT, "values": [{
        "key": row.key, "version": row.version, "value": str(row.value), "unit": row.unit,
        "effective_from": row.effective_from.isoformat(),
        "effective_to": row.effective_to.isoformat() if row.effective_to else None,
        "evidence": row.evidence, "source_citation": row.source_citation,
        "description": {"en": row.description_en, "zh": row.description_zh},
        "state": row.state,
    } for row in rows]}


@transaction.atomic
def policy_values_import(data: dict, *, actor) -> list[PolicyValue]:
    """Draft, for each value in the document that differs from the one in force, the next
    version of its key; they are published four-eyes like any draft. Values equal to the ones
    in force are skipped. Everything is checked before the first write (errors by row)."""
    _require(actor)
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError({"format": _("This is not a policy-value export.")})
    errors, wanted = {}, []
    for index, row in enumerate(data.get("values") or []):
        try:
            amount = Decimal(str(row["value"]))
            start = dt.date.fromisoformat(row["effective_from"])
            key = str(row["key"])
        except (KeyError, TypeError, ValueError, InvalidOperation):
            errors[f"values.{index}"] = [_("Each value needs a key, a number and a start date.")]
            continue
        if row.get("state", "published") != "published":
            continue  # retired versions travel for the record, not to be put in force again
        description = row.get("description") or {}
        wanted.append((key, {"value": amount, "unit": row.get("unit") or "",
                             "effective_from": start, "evidence": row.get("evidence") or "G",
                             "source_citation": row.get("source_citation") or "",
                             "description_en": description.get("en", ""),
                             "description_zh": description.get("zh", "")}))
    if errors:
        raise ValidationError(errors)
    drafted = []
    for key, fields in wanted:
        current = PolicyValue.objects.filter(key=key).order_by("-version").first()
        if current is not None and current.value == fields["value"] \
                and current.unit == fields["unit"]:
            continue
        drafted.append(policy_value_draft(key=key, actor=actor, **fields))
    return drafted
