"""Policy values and checklist templates in the admin, read-only: thresholds and templates
change through the policy workbench and its services (draft, import, four-eyes publish,
retire), which audit every change."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from apps.investigations.models import (
    ChecklistTemplate,
    CrossCheckRule,
    Item,
    PolicyValue,
    Section,
)


@admin.register(PolicyValue)
class PolicyValueAdmin(ReadOnlyAdmin):
    list_display = ("key", "version", "value", "unit", "effective_from", "effective_to",
                    "evidence", "source_citation")
    list_filter = ("evidence",)
    search_fields = ("key", "source_citation")


class SectionInline(ReadOnlyTabularInline):
    model = Section
    fields = ("order", "code", "title_en", "title_zh")


class ItemInline(ReadOnlyTabularInline):
    model = Item
    fk_name = "template"
    fields = ("section", "order", "code", "answer_type", "label_en", "label_zh", "required",
              "red_flag_rules")


class CrossCheckInline(ReadOnlyTabularInline):
    model = CrossCheckRule
    fields = ("order", "code", "title_en", "expression", "thresholds")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "state", "effective_from", "effective_to", "created_by",
                    "published_by")
    list_filter = ("state",)
    inlines = [SectionInline, ItemInline, CrossCheckInline]
