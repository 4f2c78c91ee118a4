from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.models import IdempotencyRecord, OutboxMessage, TaskProbe


class ReadOnlyAdminMixin:
    """To read only in the admin: no add, change or delete, whatever the user's permissions
    (a superuser's POST to the add or change view is refused with 403). Inlines of an admin
    with this mixin are read-only as well, whichever inline classes it names.

    For policy data (issue 17): its changes go through the policy workbench, whose services
    check four-eyes, freeze published versions and audit every change; for records written by
    services only: an admin edit would bypass their checks and audit events."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_inlines(self, request, obj):
        return [inline if issubclass(inline, ReadOnlyAdminMixin)
                else type(inline.__name__, (ReadOnlyAdminMixin, inline), {})
                for inline in super().get_inlines(request, obj)]


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A model admin to read only (see `ReadOnlyAdminMixin`)."""


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An inline to read only: its rows shown, none added."""

    extra = 0


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """The durable hand-off to the workers: what is waiting, what was sent, what failed and
    why. Read-only but for one action, re-queueing failed messages after the cause is fixed."""

    list_display = ("id", "task_name", "state", "attempts", "created_at", "available_at",
                    "sent_at", "last_error")
    list_filter = ("state", "task_name")
    search_fields = ("task_name", "task_id")
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed messages again"))
    def requeue(self, request, queryset):
        from apps.core.outbox import outbox_requeue

        count = outbox_requeue(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("%(n)d message re-queued.",
                                            "%(n)d messages re-queued.", count) % {"n": count},
                          messages.SUCCESS)
