from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "apps.parties"
    verbose_name = _("Enterprises and persons")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "enterprise.created": _("Enterprise created"),
            "enterprise.updated": _("Enterprise updated"),
            "person.created": _("Person created"),
            "relationship.added": _("Relationship added"),
            "party_alias.added": _("Party alias or account recorded"),
        })
