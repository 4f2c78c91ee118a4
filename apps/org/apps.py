from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "apps.org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "branch.created": _("Branch created"),
            "branch.updated": _("Branch updated"),
        })
