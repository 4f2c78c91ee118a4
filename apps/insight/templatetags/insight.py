"""Table cells in the reader's language: grouped digits and percentages per locale."""

from decimal import Decimal

from django import template
from django.utils import formats

from apps.insight.charts import COUNT, MONEY, RATIO

register = template.Library()


@register.filter
def cell(value, kind: str) -> str:
    """A figure as the active locale writes it: 1,234,567.89 / 4.50%; text unchanged."""
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return formats.number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    if kind == COUNT:
        return formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)
    if kind == RATIO:
        return formats.number_format(Decimal(value) * 100, 2, use_l10n=True) + "%"
    return str(value)
