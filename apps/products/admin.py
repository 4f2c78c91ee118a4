"""Products in the admin, read-only: drafts, edits, publication and retirement go through the
policy workbench (apps.products.workbench) and its services."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.products.models import CreditProduct, EntryCondition, ProductVersion


class ConditionInline(admin.TabularInline):
    model = EntryCondition
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CreditProduct)
class CreditProductAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_en", "name_zh")


@admin.register(ProductVersion)
class ProductVersionAdmin(ReadOnlyAdmin):
    list_display = ("product", "version", "state", "effective_from", "effective_to",
                    "created_by", "published_by")
    list_filter = ("state", "product")
    inlines = [ConditionInline]
