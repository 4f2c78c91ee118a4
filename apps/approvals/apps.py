from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "apps.approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from apps.approvals import guards
        from apps.approvals.views import register_sections
        from apps.audit.registry import register_actions

        guards.register()
        register_sections()
        register_actions({
            "authority_matrix.created": _("Authority matrix drafted"),
            "authority_matrix.changed": _("Authority matrix draft edited"),
            "authority_rule.added": _("Authority matrix row added or edited"),
            "authority_rule.removed": _("Authority matrix row removed"),
            "authority_matrix.published": _("Authority matrix published"),
            "authority_matrix.retired": _("Authority matrix retired"),
            "policy_exception.declared": _("Policy exception declared"),
            "review.opinion_recorded": _("Review opinion recorded"),
            "approval_route.resolved": _("Approval route fixed"),
            "approval_route.approved": _("Approval route completed: approved"),
            "approval_route.rejected": _("Approval route completed: rejected"),
            "approval_route.returned": _("Approval route completed: returned"),
            "approval_step.opened": _("Approval step opened"),
            "approval_step.notified": _("Signers notified"),
            "approval_step.reminded": _("Signers reminded"),
            "approval_step.escalated": _("Overdue step escalated"),
            "approval_step.quorum_impossible": _("Committee quorum impossible: escalated"),
            "approval.signed": _("Approval step signed"),
            "approval.password_refused": _("Signature refused: wrong password"),
            "approval.signing_locked": _("Signature refused: too many wrong passwords"),
            "committee.vote_cast": _("Committee vote cast"),
            "committee.vote_closed": _("Committee vote closed"),
            "committee.session_scheduled": _("Committee session scheduled"),
            "condition.satisfied": _("Condition precedent satisfied"),
            "delegation.granted": _("Authority delegated"),
            "delegation.revoked": _("Delegation revoked"),
        })
