"""Plugs covenant checks and annual reviews into the rest of monitoring, once, from
`MonitoringConfig.ready()`: audit action names, the Celery tasks, the work-list block and
the loan page's section (through the registries in `apps.monitoring.hooks`)."""

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from django.db.models.signals import post_save
    from django_fsm.signals import post_transition

    from apps.audit.registry import register_actions
    from apps.loans.models import Loan
    from apps.monitoring import covenant_tasks, covenant_views, hooks  # noqa: F401 (tasks)
    from apps.monitoring.covenant_receivers import loan_booked_covenants, loan_moved_covenants

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
        "covenant_check.cancelled": _("Covenant check no longer owed (waived or ended)"),
        "covenant_change.proposed": _("Covenant change proposed"),
        "covenant_change.approved": _("Covenant change approved"),
        "covenant_change.rejected": _("Covenant change rejected"),
        "covenant_change.withdrawn": _("Covenant change withdrawn"),
        "covenant.amended": _("Covenant amended"),
        "covenant.waived": _("Covenant waived"),
        "covenant.ended": _("Covenant ended"),
        "covenant.reinstated": _("Covenant tested again after its waiver"),
    })
    # A booked or activated loan gets its covenant schedule through the outbox (the daily
    # sweep repeats it, idempotently).
    post_save.connect(loan_booked_covenants, sender=Loan,
                      dispatch_uid="monitoring.covenants.loan_booked")
    post_transition.connect(loan_moved_covenants, sender=Loan,
                            dispatch_uid="monitoring.covenants.loan_moved")
    hooks.register_worklist_block(covenant_views.worklist_block)
    hooks.register_loan_panel_block(covenant_views.loan_block)
