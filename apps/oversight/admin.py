"""Read-only views of the oversight records. Duty rules are versioned policy data edited in
the policy workbench (apps.oversight.duty_rules_workbench) through services that draft,
publish four-eyes and audit; an admin edit would bypass all three (issue 17)."""

from django.contrib import admin

from apps.oversight.models import DutyRule, DutyRuleSet, ExportJob


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DutyRuleInline(_ReadOnly, admin.TabularInline):
    model = DutyRule
    extra = 0
    fields = ("order", "code", "label_en", "label_zh", "evaluator", "parameters")
    readonly_fields = fields


@admin.register(DutyRuleSet)
class DutyRuleSetAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("version", "state", "effective_from", "effective_to", "source_citation")
    inlines = [DutyRuleInline]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are made by auditors' requests and moved by the worker."""

    list_display = ("created_at", "kind", "state", "requested_by", "progress", "total")
    list_filter = ("kind", "state")
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
