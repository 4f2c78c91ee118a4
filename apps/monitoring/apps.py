from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Post-loan monitoring")

    def ready(self) -> None:
        self._ready_inspections()

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
        )
        from apps.monitoring.inspection_services import inspection_request_special

        register_actions({
            "inspection.scheduled": _("Post-loan inspection scheduled"),
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
