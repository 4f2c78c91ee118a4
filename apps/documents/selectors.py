"""Reads of documents, scoped to what the viewer may see (ASVS 8.2.2: no IDOR on any route)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.applications.selectors import application_list
from apps.documents.models import Document, DocumentType


def document_list(*, viewer: User, filters: dict | None = None) -> QuerySet[Document]:
    """Documents of the applications the viewer may see: the application's scope is the
    document's scope, so a reviewer of another branch sees neither."""
    return (Document.objects
            .filter(application__in=application_list(viewer=viewer).values("pk"))
            .select_related("document_type", "uploaded_by")
            .filter(**(filters or {})))


def document_get(*, viewer: User, document_id: int) -> Document:
    """404, not 403, for a document the viewer may not see: its existence is not revealed."""
    return get_object_or_404(document_list(viewer=viewer).select_related("application"),
                             pk=document_id)


def document_type_list() -> QuerySet[DocumentType]:
    """The types an upload may name (configuration, the same for every viewer)."""
    return DocumentType.objects.filter(is_active=True).order_by("code")
