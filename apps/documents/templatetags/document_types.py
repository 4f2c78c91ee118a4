"""Document types by name in the reader's language, for pages of apps below documents (an
investigation's evidence buttons): a template library needs no import across the layers."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def document_type_name(context, code: str) -> str:
    """The type's name (one query per request, kept on the request: each checklist item is its
    own include); its code if unknown."""
    request = context.get("request")
    names = getattr(request, "_document_type_names", None)
    if names is None:
        from apps.documents.models import DocumentType

        zh = (get_language() or "").startswith("zh")
        names = {row["code"]: (row["name_zh"] if zh else row["name_en"]) or row["code"]
                 for row in DocumentType.objects.values("code", "name_en", "name_zh")}
        if request is not None:
            request._document_type_names = names
    return names.get(code, code)
