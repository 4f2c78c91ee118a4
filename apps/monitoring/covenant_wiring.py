"""Plugs covenant checks and annual reviews into the rest of monitoring, once, from
`MonitoringConfig.ready()`: audit action names, the Celery tasks, the work-list block and
the loan page's section (through the registries in `apps.monitoring.hooks`)."""

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from apps.audit.registry import register_actions
    from apps.monitoring import covenant_tasks, covenant_views, hooks  # noqa: F401 (tasks)

    register_actions({
        "covenant.recorded": _("Loan covenant recorded"),
        "covenant_check.scheduled": _("Covenant check scheduled"),
        "covenant_check.reminded": _("Covenant check reminder sent"),
        "covenant_check.overdue": _("Covenant check overdue"),
        "covenant_check.escalated": _("Overdue covenant check escalated to the branch head"),
        "covenant_check.submitted": _("Covenant check submitted"),
        "covenant_check.accepted": _("Covenant check accepted"),
        "covenant_check.breached": _("Covenant breach confirmed"),
        "annual_review.scheduled": _("Annual review scheduled"),
        "annual_review.reminded": _("Annual review reminder sent"),
        "annual_review.overdue": _("Annual review overdue"),
        "annual_review.escalated": _("Overdue annual review escalated to the branch head"),
        "annual_review.submitted": _("Annual review submitted"),
        "annual_review.accepted": _("Annual review accepted"),
        "annual_review.returned": _("Annual review sent back to the officer"),
    })
    hooks.register_worklist_block(covenant_views.worklist_block)
    hooks.register_loan_panel_block(covenant_views.loan_block)
