from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    """The auditors' side: trail search, exports, integrity checks, due-diligence packs."""

    name = "apps.oversight"
    verbose_name = _("Audit oversight")
