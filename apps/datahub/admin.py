from django.contrib import admin

from apps.datahub.models import Consent, Pull, Record, SourceCircuit


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "purpose", "valid_from", "valid_until", "document_reference"]
    readonly_fields = [f.name for f in Consent._meta.fields]

    def has_add_permission(self, request):
        return False  # through the service (audited)


@admin.register(Pull)
class PullAdmin(admin.ModelAdmin):
    list_display = ["id", "enterprise", "source", "channel", "state", "cost", "saved",
                    "created_at"]
    list_filter = ["source", "channel", "state"]
    readonly_fields = [f.name for f in Pull._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "source", "kind", "key", "fetched_at", "format_version"]
    readonly_fields = [f.name for f in Record._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SourceCircuit)
class SourceCircuitAdmin(admin.ModelAdmin):
    """An operator may close a circuit by hand (failures 0, open until empty)."""

    list_display = ["source", "failures", "opened_until"]
