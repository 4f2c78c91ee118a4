from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationsConfig(AppConfig):
    name = "apps.investigations"
    verbose_name = _("Pre-lending investigations")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "checklist_template.imported": _("Checklist template imported as a draft"),
            "checklist_template.published": _("Checklist template published"),
            "checklist_template.retired": _("Checklist template retired"),
        })
