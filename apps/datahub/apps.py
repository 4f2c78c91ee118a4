from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_ASK = {"datahub.view_pull", "datahub.add_pull", "datahub.view_consent"}
HUB_PERMISSIONS = {
    "account_manager": _ASK | {"datahub.add_consent"},
    "team_lead": _ASK | {"datahub.add_consent", "datahub.view_cost_report",
                         "datahub.import_file"},
    "risk_reviewer": _ASK,
    "post_loan_officer": _ASK,
    "approver": {"datahub.view_pull", "datahub.view_consent"},
    "committee_member": {"datahub.view_pull", "datahub.view_consent"},
    "auditor": {"datahub.view_pull", "datahub.view_consent", "datahub.view_cost_report"},
    "admin": {"datahub.view_pull", "datahub.view_consent", "datahub.view_cost_report",
              "datahub.import_file", "datahub.view_sourcecircuit",
              "datahub.change_sourcecircuit"},
}


class DatahubConfig(AppConfig):
    name = "apps.datahub"
    verbose_name = _("External data hub")

    def ready(self) -> None:
        from apps.accounts.roles import ROLE_PERMISSIONS, Role
        from apps.audit.registry import register_actions
        from apps.datahub.findings import court_findings
        from apps.investigations.evidence import register_finding_source

        register_actions({
            "datahub.consent_recorded": _("Data-pull consent recorded"),
            "datahub.pull_requested": _("External data pull requested"),
            "datahub.pull_answered_from_cache": _("External data pull answered from the cache"),
            "datahub.pull_succeeded": _("External data pull completed"),
            "datahub.pull_failed": _("External data pull failed"),
            "datahub.file_imported": _("External data file imported"),
        })
        # The hub's permissions join the roles (accounts syncs the groups after migrate).
        for role, codes in HUB_PERMISSIONS.items():
            ROLE_PERMISSIONS.setdefault(Role(role), set()).update(codes)
        # Court hits become cross-check findings of the investigation (investigations sits
        # below this app, so it learns of them through its registry, never an import).
        register_finding_source(court_findings)
