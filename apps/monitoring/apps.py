from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Post-loan monitoring")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "classification_run.started": _("Monthly classification run started"),
            "classification_run.chunk_done": _("Classification run chunk done"),
            "classification.proposed": _("Loan category proposed"),
            "classification.confirmed": _("Loan category confirmed"),
            "classification.approved": _("Loan category upgrade approved"),
            "classification.rejected": _("Loan category proposal rejected"),
            "loan_restructuring.recorded": _("Loan restructuring date recorded"),
            "signal.raised": _("Early-warning signal raised"),
            "signal.acknowledged": _("Early-warning signal acknowledged"),
            "signal.close_requested": _("Closing an L3 signal requested"),
            "signal.close_refused": _("Closing an L3 signal refused"),
            "signal.closed": _("Early-warning signal closed"),
            "monitoring_action.opened": _("Mandatory monitoring actions opened"),
            "monitoring_action.done": _("Monitoring action done"),
            "monitoring_action.waived": _("Monitoring action waived"),
            "monitoring_action.overdue": _("Monitoring action overdue"),
        })
