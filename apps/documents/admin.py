from django.contrib import admin

from apps.documents.models import Document, DocumentType


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh", "max_size_bytes", "expires", "is_active"]
    list_filter = ["is_active", "expires"]
    search_fields = ["code", "name_en", "name_zh"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Read-only: documents are created by the upload service (safety checks, storage, audit)
    and change state only through their transitions."""

    list_display = ["id", "application", "document_type", "state", "detected_format", "size",
                    "quarantined", "uploaded_at"]
    list_filter = ["state", "detected_format", "quarantined"]
    search_fields = ["sha256", "application__reference"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
