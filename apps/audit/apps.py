from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "apps.audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from apps.audit import receivers  # noqa: F401  (connects the signal receivers)
        from apps.audit.registry import register_actions

        register_actions({
            "audit.exported": _("Audit events exported"),
            "audit.chain_verified": _("Audit chain verified"),
            "audit.chain_alert": _("Audit chain broken: alert raised"),
            "auth.permission_refused": _("Permission refused"),
        })
