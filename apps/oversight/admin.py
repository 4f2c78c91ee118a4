"""Duty rules are edited here by administrators, as new versions; each change is audited.

A rule set already in force is read-only: a pack must always be re-explainable with the rules
it was evaluated against, so changing a duty means adding the next version.
"""

from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.oversight.models import DutyRule, DutyRuleSet, ExportJob


def _in_force(rule_set) -> bool:
    return rule_set is not None and rule_set.pk and rule_set.effective_from <= timezone.localdate()


class DutyRuleInline(admin.TabularInline):
    model = DutyRule
    extra = 0
    fields = ("order", "code", "label_en", "label_zh", "evaluator", "parameters")

    def has_change_permission(self, request, obj=None):
        return not _in_force(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not _in_force(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _in_force(obj) and super().has_delete_permission(request, obj)


@admin.register(DutyRuleSet)
class DutyRuleSetAdmin(admin.ModelAdmin):
    list_display = ("version", "effective_from", "source_citation")
    inlines = [DutyRuleInline]

    def get_readonly_fields(self, request, obj=None):
        return ("version", "effective_from", "source_citation") if _in_force(obj) else ()

    def has_delete_permission(self, request, obj=None):
        return not _in_force(obj) and super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            rule_set = form.instance
            audit_record(action="duty_rules.changed", actor=request.user, subject=rule_set,
                         payload={"version": rule_set.version,
                                  "effective_from": rule_set.effective_from,
                                  "rules": [{"code": r.code, "evaluator": r.evaluator,
                                             "parameters": r.parameters}
                                            for r in rule_set.rules.all()]})


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
