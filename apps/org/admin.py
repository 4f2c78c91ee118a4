from django.contrib import admin

from apps.org.models import Branch


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "is_active")
    search_fields = ("code", "name")
    list_filter = ("is_active",)
