from django.contrib import admin

from apps.scoring.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are registered by training and move only through services, and an
    artefact edited here would no longer match its hash."""

    list_display = ("version", "kind", "state", "target", "trained_by", "created_at")
    list_filter = ("kind", "state")
    search_fields = ("version", "artefact_sha256", "training_data_sha256")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
