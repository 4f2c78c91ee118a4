from django.contrib import admin

from apps.core.models import IdempotencyRecord, TaskProbe


@admin.register(TaskProbe)
class TaskProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "requested_by", "requested_at", "executed_at", "worker_hostname")
    readonly_fields = (
        "requested_by", "requested_at", "executed_at", "worker_hostname", "worker_pid",
    )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Read-only: a stored response is evidence of what a retried command answered."""

    list_display = ("key", "user", "method", "path", "response_status", "created_at")
    search_fields = ("key", "path")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
