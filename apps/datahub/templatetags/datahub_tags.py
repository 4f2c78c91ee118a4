from django import template

register = template.Library()


@register.filter
def item(mapping, key):
    """`row|item:"branch__name"`: a dict value whose key has double underscores."""
    return mapping.get(key) if hasattr(mapping, "get") else None
