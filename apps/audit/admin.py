from django.contrib import admin

from apps.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the admin can look, never add, change or delete."""

    list_display = ("seq", "occurred_at", "action", "actor", "subject_type", "subject_id")
    list_filter = ("action", "subject_type")
    search_fields = ("action", "subject_id", "=request_id")
    ordering = ("-seq",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
