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
            # The policy workbench's early-warning rules (issue 17).
            "signal_rule.created": _("Early-warning signal rule drafted"),
            "signal_rule.changed": _("Early-warning signal rule draft changed"),
            "signal_rule.published": _("Early-warning signal rule published"),
            "signal_rule.retired": _("Early-warning signal rule retired"),
            "level_action_table.created": _("Level action table drafted"),
            "level_action_table.changed": _("Level action table draft changed"),
            "level_action_table.published": _("Level action table published"),
            "level_action_table.retired": _("Level action table retired"),
        })
        self._ready_inspections()
        from apps.monitoring import covenant_wiring, external_signals, wiring

        wiring.connect()
        covenant_wiring.connect()  # covenant checks and annual reviews
        external_signals.connect()  # W02, W10–W12 from the data hub's refreshes

    # --- inspections (贷后检查): audit actions, hooks, tasks, schedule on booking ---------------
    @staticmethod
    def _ready_inspections() -> None:
        from django.db.models.signals import post_save
        from django_fsm.signals import post_transition

        from apps.audit.registry import register_actions
        from apps.loans.models import Loan
        from apps.monitoring import inspection_hooks, inspection_tasks  # noqa: F401 (tasks)
        from apps.monitoring.inspection_receivers import (
            loan_booked_schedule,
            loan_moved_schedule,
            loan_restructured_record,
        )
        from apps.monitoring.inspection_services import inspection_request_special

        register_actions({
            "inspection.scheduled": _("Post-loan inspection scheduled"),
            "inspection.scheduled_batch": _("Special post-loan inspections scheduled"),
            "inspection.started": _("Post-loan inspection started"),
            "inspection.answer_saved": _("Post-loan inspection answer saved"),
            "inspection.submitted": _("Post-loan inspection submitted"),
            "inspection.reviewed": _("Post-loan inspection reviewed"),
            "inspection.returned": _("Post-loan inspection returned for correction"),
            "inspection.overdue": _("Post-loan inspection overdue and escalated"),
        })
        # The signals side asks for a special check after an L2/L3 signal through this hook.
        inspection_hooks.register_special_check_requester(inspection_request_special)
        # A booked or activated loan gets its schedule (the daily sweep catches any lost send).
        post_save.connect(loan_booked_schedule, sender=Loan,
                          dispatch_uid="monitoring.inspections.loan_booked")
        post_transition.connect(loan_moved_schedule, sender=Loan,
                                dispatch_uid="monitoring.inspections.loan_moved")
        post_transition.connect(loan_restructured_record, sender=Loan,
                                dispatch_uid="monitoring.restructuring.recorded")
