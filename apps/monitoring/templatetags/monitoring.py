"""Template helpers for monitoring pages: sentences, not internals."""

from django import template

from apps.monitoring.states import Category, WarningLevel

register = template.Library()


@register.filter
def floor_sentence(reasons) -> str:
    """A floor's reasons as one sentence in the active language."""
    from apps.monitoring.services.classification import describe_reasons

    return describe_reasons(reasons or [])


@register.filter
def category_label(code) -> str:
    try:
        return Category(code).label
    except ValueError:
        return str(code)


@register.filter
def level_label(level) -> str:
    try:
        return WarningLevel(int(level)).label
    except (TypeError, ValueError):
        return str(level)


@register.filter
def percent(value) -> str:
    return "" if value is None else f"{float(value):.2%}"
