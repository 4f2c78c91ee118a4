from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "branch", "authority_level", "is_active")
    list_filter = ("branch", "groups", "is_active")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Bank"), {"fields": ("branch", "authority_level")}),
    )
