from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = _("People and roles")

    def ready(self) -> None:
        from apps.accounts import (  # noqa: F401  (login and lockout events; rights versions)
            authz,
            receivers,
        )
        from apps.accounts.roles import sync_role_groups
        from apps.audit.registry import register_actions

        register_actions({
            "auth.login": _("Signed in"),
            "auth.logout": _("Signed out"),
            "auth.login_failed": _("Sign-in failed"),
            "auth.locked_out": _("Account locked after failed sign-ins"),
            "user.created": _("User created"),
            "user.roles_changed": _("User roles changed"),
        })
        # Role groups follow the code after every migrate, so a new app's permissions reach
        # the roles that need them without a hand-written data migration.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
