"""Policy values and checklist templates in the admin, read-only: thresholds and templates
change through their services (import, publish, retire), which audit every change."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.investigations.models import ChecklistTemplate, PolicyValue


@admin.register(PolicyValue)
class PolicyValueAdmin(ReadOnlyAdmin):
    list_display = ("key", "version", "value", "unit", "effective_from", "effective_to",
                    "evidence", "source_citation")
    list_filter = ("evidence",)
    search_fields = ("key", "source_citation")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "state", "effective_from", "effective_to", "created_by",
                    "published_by")
    list_filter = ("state",)
