from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    """Dashboards and the enterprise portrait (issue 22): reads every other app, writes nothing."""

    name = "apps.insight"
    label = "insight"
    verbose_name = _("Insight")

    def ready(self) -> None:
        # The enterprise page (parties cannot import us) links to the portrait.
        from apps.parties.views import register_enterprise_section

        register_enterprise_section(key="insight", order=1, context=_portrait_link,
                                    template="insight/partials/enterprise_link.html")


def _portrait_link(request, enterprise) -> dict:
    return {"enterprise": enterprise}
