from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationsConfig(AppConfig):
    name = "apps.investigations"
    verbose_name = _("Pre-lending investigations")

    def ready(self) -> None:
        from apps.applications.guards import (
            register_conflict_source,
            register_guard,
            register_on_move,
        )
        from apps.audit.registry import register_actions
        from apps.investigations.views import register_sections
        from apps.investigations.workflow import (
            investigation_accepted_guard,
            investigation_officer_ids,
            investigation_reopen_on_return,
        )

        register_actions({
            "checklist_template.imported": _("Checklist template imported as a draft"),
            "checklist_template.changed": _("Checklist template draft changed"),
            "policy_value.created": _("Policy value drafted"),
            "policy_value.changed": _("Policy value draft changed"),
            "policy_value.published": _("Policy value published"),
            "policy_value.retired": _("Policy value retired"),
            "checklist_template.published": _("Checklist template published"),
            "checklist_template.retired": _("Checklist template retired"),
            "investigation.assigned": _("Investigation assigned"),
            "investigation.started": _("Investigation started"),
            "investigation.answer_saved": _("Investigation answer saved"),
            "investigation.site_checked_in": _("Site check-in recorded"),
            "investigation.submitted": _("Investigation submitted"),
            "investigation.accepted": _("Investigation accepted"),
            "investigation.returned": _("Investigation returned for correction"),
            "investigation.site_checked_out": _("Site check-out recorded"),
            "investigation.reopened": _("Accepted investigation reopened for rework"),
            "reverification.opened": _("Investigation sampled for re-verification"),
            "reverification.requested": _("Re-verification requested by a team lead"),
            "reverification.completed": _("Re-verification completed"),
        })
        # The officers who investigated may not review or approve the file (审贷分离).
        register_conflict_source(investigation_officer_ids)
        # The application cannot leave investigating until its investigation is accepted.
        register_guard("send_to_review", investigation_accepted_guard)
        register_sections()  # the investigation block of the application page
        # Returning the application for rework from review reopens its accepted investigation.
        register_on_move("return_for_rework", investigation_reopen_on_return)
