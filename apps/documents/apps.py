from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "apps.documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "document.uploaded": _("Document uploaded"),
            "document.downloaded": _("Document downloaded"),
        })
