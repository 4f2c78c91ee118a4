from django.contrib import admin

from apps.applications.models import Application


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read-only: every change goes through the services (pages and API), never the admin."""

    list_display = ("reference", "enterprise", "product_version", "state", "amount_requested",
                    "amount_approved", "branch", "account_manager", "created_at")
    list_filter = ("state", "branch")
    search_fields = ("reference", "enterprise__name", "enterprise__uscc")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
