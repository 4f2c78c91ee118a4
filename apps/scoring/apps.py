from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "apps.scoring"
    verbose_name = _("Credit scoring")

    def ready(self) -> None:
        from apps.applications.sections import register_application_section
        from apps.audit.registry import register_actions
        from apps.scoring.views import score_section_context

        register_actions({
            "model.trained": _("Credit model trained"),
            "model.training_started": _("Credit model training started"),
            "model.training_failed": _("Credit model training failed"),
            "model.installed_default": _("Default credit model installed"),
            "model.validated": _("Credit model validated"),
            "model.promotion_requested": _("Credit model promotion requested"),
            "model.promotion_rejected": _("Credit model promotion refused"),
            "model.promoted": _("Credit model promoted to champion"),
            "model.retired": _("Credit model retired"),
            "model.drift_alert": _("Credit model drift alert"),
            "decision_policy.seeded": _("Default decision policy installed"),
            "decision_policy.created": _("Decision policy version drafted"),
            "decision_policy.published": _("Decision policy version published"),
            "decision_policy.retired": _("Decision policy version retired"),
            "decision_policy.changed": _("Decision policy draft changed"),
            "loan_performance.imported": _("Loan performance imported"),
            "score.requested": _("Score requested"),
            "score.computed": _("Application scored"),
            "score.overridden": _("Decision against the score's recommendation"),
            "score.rescoring_started": _("Portfolio re-scoring started"),
            "score.rescoring_joined": _("Joined the portfolio re-scoring already running"),
            "score.rescored_chunk": _("Portfolio re-scoring chunk written"),
            "score.rescoring_completed": _("Portfolio re-scoring completed"),
            "score.rescoring_failed": _("Portfolio re-scoring failed"),
            "score.attempt_failed": _("Scoring attempt failed; will retry"),
            "score.failed": _("Scoring failed after every attempt allowed"),
            "score.rerun_requested": _("Failed score re-run requested"),
            "score.failure_resolved": _("Failed score resolved by a later score"),
        })
        from apps.scoring.services.bulk import register_seed

        register_seed(self)  # the bulk-job limit policy row (issue 23)
        # The score block of the application page, after the file's own sections.
        register_application_section(key="scoring", template="scoring/partials/score_section.html",
                                     context=score_section_context, order=60)
