"""Products in the admin, read-only: drafts, edits, publication and retirement go through the
policy workbench (apps.products.workbench) and its services."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from apps.products.models import CreditProduct, EntryCondition, ProductVersion


class ConditionInline(ReadOnlyTabularInline):
    model = EntryCondition


@admin.register(CreditProduct)
class CreditProductAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_en", "name_zh")


@admin.register(ProductVersion)
class ProductVersionAdmin(ReadOnlyAdmin):
    list_display = ("product", "version", "state", "effective_from", "effective_to",
                    "created_by", "published_by")
    list_filter = ("state", "product")
    inlines = [ConditionInline]
