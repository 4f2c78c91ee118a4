from django.contrib import admin

from apps.documents.models import (
    ColumnProfile,
    Document,
    DocumentCheck,
    DocumentReminder,
    DocumentRequirement,
    DocumentRequirementSet,
    DocumentType,
    RequirementWaiver,
)


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


class _ReadOnly:
    """Policy data changes only in the policy workbench (issue 17): drafted, published
    four-eyes and audited by the services; an admin edit would bypass all three."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DocumentRequirementSet)
class DocumentRequirementSetAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["product", "version", "state", "effective_from", "effective_to"]
    list_filter = ["product", "state"]


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(_ReadOnly, admin.ModelAdmin):
    """Policy data: which documents each product needs before which move (§3.5)."""

    list_display = ["product", "document_type", "stage", "required", "min_count", "is_active",
                    "evidence"]
    list_filter = ["product", "stage", "required", "is_active"]


@admin.register(ColumnProfile)
class ColumnProfileAdmin(admin.ModelAdmin):
    """A bank's (or tax bureau's, or utility's) export layout: a new bank is a new row."""

    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]


class _ReadOnly(admin.ModelAdmin):
    """Written by services (checks, waivers, reminders) with their audit events only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DocumentCheck)
class DocumentCheckAdmin(_ReadOnly):
    list_display = ["document", "kind", "status", "attempts", "checker_version", "started_at",
                    "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(RequirementWaiver)
class RequirementWaiverAdmin(_ReadOnly):
    list_display = ["application", "requirement", "waived_by", "created_at"]


@admin.register(DocumentReminder)
class DocumentReminderAdmin(_ReadOnly):
    list_display = ["document", "window", "expires_on", "recipient", "sent_at"]
    list_filter = ["window"]
