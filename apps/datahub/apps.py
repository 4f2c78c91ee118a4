from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatahubConfig(AppConfig):
    name = "apps.datahub"
    verbose_name = _("External data hub")

    def ready(self) -> None:
        from apps.audit.registry import register_actions
        from apps.datahub.facts import (
            mismatch_findings,
            pulled_figures,
            pulled_figures_steps,
            pulled_item_values,
        )
        from apps.datahub.findings import court_findings
        from apps.investigations.evidence import (
            register_figure_source,
            register_finding_source,
            register_item_value_source,
        )

        register_actions({
            "datahub.consent_recorded": _("Data-pull consent recorded"),
            "datahub.pull_requested": _("External data pull requested"),
            "datahub.pull_answered_from_cache": _("External data pull answered from the cache"),
            "datahub.pull_succeeded": _("External data pull completed"),
            "datahub.pull_failed": _("External data pull failed"),
            "datahub.pull_resent": _("External data pull sent again (its worker stopped or "
                                     "its message was lost)"),
            "datahub.file_imported": _("External data file imported"),
        })
        # Court hits become cross-check findings of the investigation (investigations sits
        # below this app, so it learns of them through its registry, never an import).
        register_finding_source(court_findings)
        # An answer that disagrees with the pulled value is a cross-check finding; the pulled
        # figures feed the cross-checks and the scoring features; the pulled values are shown
        # beside the officer's answers (apps/datahub/facts.py).
        register_finding_source(mismatch_findings)
        register_figure_source(pulled_figures, steps=pulled_figures_steps)
        register_item_value_source(pulled_item_values)
