from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "apps.applications"
    verbose_name = _("Loan applications")

    def ready(self) -> None:
        from apps.applications.exposure import register_exposure_fact
        from apps.applications.views import register_sections
        from apps.audit.registry import register_actions

        register_sections()
        register_exposure_fact()

        register_actions({
            "application.created": _("Application opened"),
            "application.updated": _("Application edited"),
            "application.submitted": _("Application submitted"),
            "application.investigation_started": _("Investigation started"),
            "application.sent_to_review": _("Sent to review"),
            "application.returned": _("Returned for rework"),
            "application.investigation_resumed": _("Investigation resumed"),
            "application.sent_to_approval": _("Sent to approval"),
            "application.approved": _("Application approved"),
            "application.rejected": _("Application rejected"),
            "application.contracted": _("Contract signed"),
            "application.disbursed": _("Loan disbursed"),
            "application.withdrawn": _("Application withdrawn"),
            "application.expired": _("Application expired"),
            "application.reassigned": _("Application reassigned"),
        })
