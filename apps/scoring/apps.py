from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "apps.scoring"
    verbose_name = _("Credit scoring")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "model.trained": _("Credit model trained"),
        })
