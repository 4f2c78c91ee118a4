"""Read-only views of the oversight records. Duty rules are versioned policy data edited in
the policy workbench (apps.oversight.duty_rules_workbench) through services that draft,
publish four-eyes and audit; an admin edit would bypass all three (issue 17)."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from apps.oversight.models import DutyRule, DutyRuleSet, ExportJob


class DutyRuleInline(ReadOnlyTabularInline):
    model = DutyRule
    fields = ("order", "code", "label_en", "label_zh", "evaluator", "parameters")
    readonly_fields = fields


@admin.register(DutyRuleSet)
class DutyRuleSetAdmin(ReadOnlyAdmin):
    list_display = ("version", "state", "effective_from", "effective_to", "source_citation")
    inlines = [DutyRuleInline]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """Read-only: jobs are made by auditors' requests and moved by the worker."""

    list_display = ("created_at", "kind", "state", "requested_by", "progress", "total")
    list_filter = ("kind", "state")
    readonly_fields = [f.name for f in ExportJob._meta.fields]
