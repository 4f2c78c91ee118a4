from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "apps.loans"
    label = "loans"
    verbose_name = _("Loan book")

    def ready(self) -> None:
        from apps.loans import performance
        from apps.products.report import register_performance_source
        from apps.scoring.services.performance import register_outcome_source

        # Apps to the left read loan outcomes through these (CONVENTIONS §1: no upward import).
        register_performance_source(performance.performance_by_enterprise)
        register_outcome_source(performance.observations_by_application)
