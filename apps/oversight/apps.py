from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _application_scope(application_id: int):
    """(enterprise_id, branch_id) of an application, for audit events about its parts."""
    from apps.applications.models import Application

    return (Application.objects.filter(pk=application_id)
            .values_list("enterprise_id", "branch_id").first())


def _auditor_links(request, application):
    from apps.oversight.access import is_auditor

    if not is_auditor(request.user):
        return None
    return {"application": application}


class OversightConfig(AppConfig):
    """The auditors' side: trail search, exports, integrity checks, due-diligence packs."""

    name = "apps.oversight"
    verbose_name = _("Audit oversight")

    def ready(self) -> None:
        from apps.applications.sections import register_application_section
        from apps.audit.registry import register_actions
        from apps.audit.scope import register_application_resolver

        register_application_resolver(_application_scope)
        register_actions({
            "export.requested": _("Export requested"),
            "export.completed": _("Export completed"),
            "export.failed": _("Export failed"),
            "export.downloaded": _("Export downloaded"),
            "trail.viewed": _("Process trail viewed"),
            "evidence_pack.viewed": _("Due-diligence evidence pack viewed"),
            "audit_chain.checked": _("Audit chain range checked"),
            "duty_rules.changed": _("Due-diligence duty rules changed"),
            "duty_rule_set.created": _("Due-diligence duty rules drafted"),
            "duty_rule_set.changed": _("Due-diligence duty rules draft changed"),
            "duty_rule_set.published": _("Due-diligence duty rules published"),
            "duty_rule_set.retired": _("Due-diligence duty rules retired"),
        })
        # Due-diligence exemption cases (尽职免责, issue #15).
        register_actions({
            "exemption_case.opened": _("Exemption case opened, evidence pack frozen"),
            "exemption_case.review_started": _("Exemption review started"),
            "exemption_case.decided": _("Exemption tiers decided"),
            "exemption_case.appealed": _("Exemption decision appealed"),
            "exemption_case.appeal_decided": _("Exemption appeal decided"),
            "exemption_case.closed": _("Exemption case closed"),
            "exemption_case.overdue": _("Exemption case past its deadline, escalated"),
            "exemption_case.pack_exported": _("Exemption evidence pack exported"),
        })
        register_application_section(key="oversight", template="oversight/partials/links.html",
                                     context=_auditor_links, order=900)
