"""Roles are Django groups with permissions; this module is their single definition.

Domain apps add their permissions to `ROLE_PERMISSIONS` as they arrive; `sync_role_groups`
(run after every migrate) makes the groups match. Branch scoping is separate: see selectors.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    TEAM_LEAD = "team_lead", _("Team lead")
    RISK_REVIEWER = "risk_reviewer", _("Risk reviewer")
    APPROVER = "approver", _("Approver")
    COMMITTEE_MEMBER = "committee_member", _("Credit committee member")
    POST_LOAN_OFFICER = "post_loan_officer", _("Post-loan officer")
    # Contracts and disbursements (独立放款): independent of the file's makers and deciders.
    LOAN_OPERATIONS = "loan_operations", _("Loan operations officer")
    AUDITOR = "auditor", _("Auditor")
    # Due-diligence exemption committee (尽职免责, §4.6/§6.4): decides tiers and hears appeals.
    # A role of its own, not the credit committee: credit committee members are among the
    # people an exemption case judges, and nobody decides their own case.
    EXEMPTION_COMMITTEE = "exemption_committee", _("Exemption committee member")
    # Credit-policy team (issue 17): drafts and publishes products, thresholds, checklists and
    # the authority matrix in the policy workbench; publishing takes a second officer.
    POLICY_OFFICER = "policy_officer", _("Policy officer")
    ADMIN = "admin", _("Administrator")


# Roles whose work spans the bank: they see every branch's records (auditors read-only).
ALL_BRANCH_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})

_VIEW_PARTIES = {"parties.view_enterprise", "parties.view_person", "parties.view_relationship",
                 "parties.view_partyalias", "products.view_creditproduct"}
# Those who query the credit bureau and sign contracts need full ID numbers (PIPL art. 28:
# sensitive data only where needed); the others see them masked.
_EDIT_PARTIES = _VIEW_PARTIES | {"parties.add_enterprise", "parties.change_enterprise",
                                 "parties.add_person", "parties.add_relationship",
                                 "parties.view_full_resident_id", "parties.add_partyalias"}

# Due-diligence duty rules and export jobs (apps.oversight): auditors read, admins version.
_VIEW_OVERSIGHT = {"oversight.view_dutyruleset", "oversight.view_dutyrule",
                   "oversight.view_exportjob"}
# Exemption cases (apps.oversight.exemption_*): auditors and the committee read them.
_VIEW_EXEMPTIONS = {"oversight.view_exemptioncase", "oversight.view_exemptionperson",
                    "oversight.view_exemptionbatch"}

# "app_label.codename" per role; permissions of apps not installed yet are skipped quietly.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.ACCOUNT_MANAGER: {"org.view_branch", *_EDIT_PARTIES},
    Role.TEAM_LEAD: {"org.view_branch", "accounts.view_user", *_EDIT_PARTIES},
    # The reviewer reads the statements and learns a related firm's trade name or a
    # controller's account from them (issue 19): it records them as party aliases.
    Role.RISK_REVIEWER: {"org.view_branch", *_VIEW_PARTIES, "parties.view_full_resident_id",
                         "parties.add_partyalias", "scoring.publish_decisionpolicy"},
    Role.APPROVER: {"org.view_branch", *_VIEW_PARTIES},
    Role.COMMITTEE_MEMBER: {"org.view_branch", *_VIEW_PARTIES},
    Role.POST_LOAN_OFFICER: {"org.view_branch", *_VIEW_PARTIES, "parties.view_full_resident_id"},
    Role.LOAN_OPERATIONS: {"org.view_branch", *_VIEW_PARTIES},
    Role.AUDITOR: {"org.view_branch", "accounts.view_user", "audit.view_auditevent",
                   "audit.export_auditevent", *_VIEW_PARTIES, *_VIEW_OVERSIGHT,
                   *_VIEW_EXEMPTIONS},
    Role.EXEMPTION_COMMITTEE: {"org.view_branch", "accounts.view_user", *_VIEW_PARTIES,
                               *_VIEW_EXEMPTIONS},
    Role.POLICY_OFFICER: {"org.view_branch", "products.view_creditproduct",
                          "products.add_creditproduct", "products.change_creditproduct",
                          "products.view_productversion", "products.publish_productversion",
                          "investigations.view_policyvalue", "investigations.add_policyvalue",
                          "investigations.change_policyvalue",
                          "investigations.publish_policyvalue",
                          "investigations.view_checklisttemplate",
                          "investigations.add_checklisttemplate",
                          "investigations.publish_checklisttemplate",
                          "approvals.view_authoritymatrix", "approvals.add_authoritymatrix",
                          "approvals.change_authoritymatrix",
                          "approvals.publish_authoritymatrix",
                          "scoring.view_decisionpolicy", "scoring.publish_decisionpolicy",
                          "oversight.view_dutyruleset", "oversight.add_dutyruleset",
                          "oversight.change_dutyruleset", "oversight.publish_dutyruleset",
                          "oversight.view_dutyrule",
                          "documents.view_documentrequirementset",
                          "documents.add_documentrequirementset",
                          "documents.change_documentrequirementset",
                          "documents.publish_documentrequirementset",
                          "documents.view_documentrequirement",
                          "monitoring.view_signalrule", "monitoring.add_signalrule",
                          "monitoring.change_signalrule", "monitoring.publish_signalrule",
                          "monitoring.view_levelactiontable",
                          "monitoring.add_levelactiontable",
                          "monitoring.change_levelactiontable",
                          "monitoring.publish_levelactiontable"},
    Role.ADMIN: {*_VIEW_PARTIES, *_VIEW_OVERSIGHT, "oversight.add_dutyruleset",
                 "oversight.change_dutyruleset", "oversight.add_dutyrule",
                 "oversight.change_dutyrule", "oversight.delete_dutyrule",
                 "org.view_branch", "org.add_branch", "org.change_branch",
                 "accounts.view_user", "accounts.add_user", "accounts.change_user",
                 "audit.view_auditevent", "core.view_taskprobe", "core.add_taskprobe",
                 "django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask",
                 "products.view_creditproduct", "products.add_creditproduct",
                 "products.change_creditproduct", "products.publish_productversion",
                 "approvals.view_authoritymatrix", "approvals.change_authoritymatrix",
                 "approvals.add_authoritymatrix", "approvals.publish_authoritymatrix",
                 "approvals.view_committee", "approvals.view_delegation",
                 "scoring.publish_decisionpolicy"},
}


def sync_role_groups(sender=None, **kwargs) -> None:
    """Create one group per role and give it exactly the permissions listed above.

    As a post_migrate receiver it runs once, after the last app's permissions exist: migrate
    sends the signal once per app, and running for each of the ~25 apps made up a tenth of a
    migration's time.
    """
    from django.apps import apps as installed
    from django.contrib.auth.models import Group, Permission

    if sender is not None:
        with_models = [config for config in installed.get_app_configs()
                       if config.models_module is not None]
        if with_models and sender.label != with_models[-1].label:
            return
    wanted_codes = set().union(*ROLE_PERMISSIONS.values())
    labels = {code.split(".", 1)[0] for code in wanted_codes}
    ids: dict[str, list[int]] = {}  # a codename may repeat across an app's models
    for pk, label, codename in Permission.objects.filter(
            content_type__app_label__in=labels).values_list("pk", "content_type__app_label",
                                                             "codename"):
        ids.setdefault(f"{label}.{codename}", []).append(pk)
    for role, codes in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([pk for code in codes for pk in ids.get(code, ())])


# The external data hub (issue #21): ask for pulls and record consents; see the cost report;
# import the exports banks receive; the administrator watches the sources' circuit breakers.
_HUB_ASK = {"datahub.view_pull", "datahub.add_pull", "datahub.view_consent"}
_HUB_READ = {"datahub.view_pull", "datahub.view_consent"}
for _role, _codes in {
    Role.ACCOUNT_MANAGER: {*_HUB_ASK, "datahub.add_consent"},
    Role.TEAM_LEAD: {*_HUB_ASK, "datahub.add_consent", "datahub.view_cost_report",
                     "datahub.import_file"},
    Role.RISK_REVIEWER: _HUB_ASK,
    Role.POST_LOAN_OFFICER: _HUB_ASK,
    Role.APPROVER: _HUB_READ,
    Role.COMMITTEE_MEMBER: _HUB_READ,
    Role.AUDITOR: {*_HUB_READ, "datahub.view_cost_report"},
    Role.ADMIN: {*_HUB_READ, "datahub.view_cost_report", "datahub.import_file",
                 "datahub.view_sourcecircuit", "datahub.change_sourcecircuit"},
}.items():
    ROLE_PERMISSIONS.setdefault(_role, set()).update(_codes)
