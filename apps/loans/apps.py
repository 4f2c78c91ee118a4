from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "apps.loans"
    label = "loans"
    verbose_name = _("Loan book")

    def ready(self):
        # Core-banking feed and days past due (apps.loans.feed, apps.loans.dpd_store).
        from apps.audit.registry import register_actions

        register_actions({
            "loan_feed.imported": _("Core-banking feed imported"),
            "loan_feed.refused": _("Core-banking feed refused"),
        })
