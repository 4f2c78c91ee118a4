from django.contrib import admin

from apps.core.models import TaskProbe


@admin.register(TaskProbe)
class TaskProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "requested_by", "requested_at", "executed_at", "worker_hostname")
    readonly_fields = (
        "requested_by", "requested_at", "executed_at", "worker_hostname", "worker_pid",
    )
