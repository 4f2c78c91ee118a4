"""Read-mostly admin: parties change only through services (audited); size-standard rows are
policy data whose changes need four-eyes sign-off, which the admin cannot give."""

from django.contrib import admin

from apps.parties.models import (
    Enterprise,
    PartyAlias,
    Person,
    Relationship,
    SizeStandard,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only: a raw admin save would bypass validation services and audit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SizeStandard)
class SizeStandardAdmin(ReadOnlyAdmin):
    list_display = ("version", "row_no", "industry_label", "metric_a", "metric_b",
                    "effective_from", "effective_to", "evidence")
    list_filter = ("version", "evidence")


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "industry", "size_class", "tax_credit_rating", "branch")
    list_filter = ("industry", "size_class", "tax_credit_rating", "branch")
    search_fields = ("name", "uscc")
    list_select_related = ("branch",)


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    search_fields = ("name",)

    @staticmethod
    def _id_field(request) -> str:
        # Full number only with the permission (PIPL art. 28); the hash is never shown.
        if request.user.has_perm("parties.view_full_resident_id"):
            return "resident_id"
        return "masked_resident_id"

    def get_list_display(self, request):
        return ("name", self._id_field(request), "phone")

    def get_fields(self, request, obj=None):
        return ("name", self._id_field(request), "phone", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "from_person", "from_enterprise", "to_enterprise",
                    "to_person", "stake_percent")
    list_filter = ("kind",)
    list_select_related = ("from_person", "from_enterprise", "to_enterprise", "to_person")


@admin.register(PartyAlias)
class PartyAliasAdmin(ReadOnlyAdmin):
    list_display = ("value", "kind", "enterprise", "person", "source")
    list_filter = ("kind",)
    search_fields = ("value", "normalised")
