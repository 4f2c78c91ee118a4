from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    """Dashboards and the enterprise portrait (issue 22): reads every other app, writes nothing."""

    name = "apps.insight"
    label = "insight"
    verbose_name = _("Insight")
