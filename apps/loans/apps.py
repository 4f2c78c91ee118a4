from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "apps.loans"
    label = "loans"
    verbose_name = _("Loan book")

    def ready(self) -> None:
        from apps.audit.registry import register_actions
        from apps.loans import (
            performance,
            tasks_origination,  # noqa: F401 - registers the Celery tasks
        )
        from apps.loans.seed import register_seed
        from apps.loans.views import register_sections
        from apps.products.report import register_performance_source
        from apps.scoring.services.performance import register_outcome_source

        register_sections()
        register_seed(self)
        register_actions({
            "contract.created": _("Loan contract signed"),
            "contract.closed": _("Loan contract closed to further drawdowns"),
            "contract.cancelled": _("Loan contract cancelled"),
            "contract.downloaded": _("Loan contract PDF downloaded"),
            "disbursement.requested": _("Drawdown requested"),
            "disbursement.approved": _("Drawdown approved"),
            "disbursement.rejected": _("Drawdown rejected"),
            "disbursement.cancelled": _("Drawdown request withdrawn"),
            "loan.booked": _("Loan note booked"),
            "loan.activated": _("Loan active from its value date"),
            "loan.settled": _("Loan settled"),
            "loan.restructured": _("Loan restructured"),
            "loan.written_off": _("Loan written off"),
            "loan.transferred": _("Loan transferred"),
            "loan_change.requested": _("Loan change requested"),
            "loan_change.approved": _("Loan change approved"),
            "loan_change.rejected": _("Loan change rejected"),
        })

        # Apps to the left read loan outcomes through these (CONVENTIONS §1: no upward import).
        register_performance_source(performance.performance_by_enterprise)
        register_outcome_source(performance.observations_by_application)

        # Core-banking feed and days past due (apps.loans.feed, apps.loans.dpd_store).
        register_actions({
            "loan_feed.imported": _("Core-banking feed imported"),
            "loan_feed.refused": _("Core-banking feed refused"),
        })
