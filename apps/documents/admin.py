"""Documents in the admin. Requirement sets are policy data edited in the policy workbench
(drafted, published four-eyes and audited by the services; an admin edit would bypass all
three, issue 17); documents, checks, waivers and reminders are written by services only."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
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
class DocumentAdmin(ReadOnlyAdmin):
    """Read-only: documents are created by the upload service (safety checks, storage, audit)
    and change state only through their transitions."""

    list_display = ["id", "application", "document_type", "state", "detected_format", "size",
                    "quarantined", "uploaded_at"]
    list_filter = ["state", "detected_format", "quarantined"]
    search_fields = ["sha256", "application__reference"]


@admin.register(DocumentRequirementSet)
class DocumentRequirementSetAdmin(ReadOnlyAdmin):
    list_display = ["product", "version", "state", "effective_from", "effective_to"]
    list_filter = ["product", "state"]


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(ReadOnlyAdmin):
    """Policy data: which documents each product needs before which move (§3.5)."""

    list_display = ["product", "document_type", "stage", "required", "min_count", "is_active",
                    "evidence"]
    list_filter = ["product", "stage", "required", "is_active"]


@admin.register(ColumnProfile)
class ColumnProfileAdmin(admin.ModelAdmin):
    """A bank's (or tax bureau's, or utility's) export layout: a new bank is a new row."""

    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(DocumentCheck)
class DocumentCheckAdmin(ReadOnlyAdmin):
    list_display = ["document", "kind", "status", "attempts", "checker_version", "started_at",
                    "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(RequirementWaiver)
class RequirementWaiverAdmin(ReadOnlyAdmin):
    list_display = ["application", "requirement", "waived_by", "created_at"]


@admin.register(DocumentReminder)
class DocumentReminderAdmin(ReadOnlyAdmin):
    list_display = ["document", "window", "expires_on", "recipient", "sent_at"]
    list_filter = ["window"]
