"""A finding's compared values as a reader reads them: named in their language, yes/no instead
of True/False, numbers and times per locale. Unknown keys (a rule's item codes) stay as they
are, since they are what a reviewer searches by."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

_LABELS = {
    "photo": gettext_lazy("Photo"),
    "other_photo": gettext_lazy("Matching photo"),
    "missing": gettext_lazy("Missing"),
    "taken_at": gettext_lazy("Taken at"),
    "distance_m": gettext_lazy("Distance (metres)"),
    "gap_m": gettext_lazy("Gap between positions (metres)"),
    "similarity": gettext_lazy("Similarity"),
    "other_investigation": gettext_lazy("Other investigation"),
    "other_item": gettext_lazy("Other item"),
    "same_officer": gettext_lazy("Same officer"),
    "officer": gettext_lazy("Officer"),
    "minutes": gettext_lazy("Minutes on site"),
    "seconds": gettext_lazy("Seconds"),
    "section": gettext_lazy("Section"),
    "answers": gettext_lazy("Answers"),
    "control": gettext_lazy("Control"),
    "record": gettext_lazy("Record"),
    "provenance": gettext_lazy("Source"),
}


# Inputs the finding's template draws as a picture (passages side by side, site timelines).
_DRAWN = {"passages", "timelines"}


def _number(value) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    else:
        number = number.normalize()
    return formats.number_format(number, use_l10n=True, force_grouping=True)


def fact_value(value) -> str:
    """One compared value in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, datetime):
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, dict):
        return "; ".join(f"{_LABELS.get(k, k)}: {fact_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(fact_value(v) for v in value) or "—"
    text = str(value)
    moment = parse_datetime(text) if "T" in text and len(text) >= 16 else None
    if moment is not None:
        return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    return _number(text)


def _officer(value) -> str:
    """A stored officer id as the officer's name (a reviewer knows people, not row numbers)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=value).only("first_name", "last_name",
                                                         "username").first()
    return (user.get_full_name() or user.username) if user else fact_value(value)


@register.filter
def finding_facts(finding: dict) -> list[tuple[str, str]]:
    """(label, value) rows of a finding's inputs."""
    return [(str(_LABELS.get(key, key)),
             _officer(value) if key == "officer" and isinstance(value, int) else fact_value(value))
            for key, value in (finding.get("inputs") or {}).items() if key not in _DRAWN]


@register.filter
def policy_facts(finding: dict) -> list[tuple[str, str]]:
    """(policy key, value) rows: the key stays a code (what the policy team searches by), the
    value reads as a number."""
    return [(key, fact_value(value)) for key, value in (finding.get("policies") or {}).items()]
