from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "apps.documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from apps.applications.guards import register_guard
        from apps.applications.sections import register_application_section
        from apps.audit.registry import register_actions
        from apps.documents import checklist
        from apps.documents.evidence import DocumentEvidenceSource
        from apps.documents.sections import checklist_section
        from apps.investigations.evidence import register_evidence_source

        register_actions({
            "document.uploaded": _("Document uploaded"),
            "document_requirements.created": _("Document requirements drafted"),
            "document_requirements.changed": _("Document requirements draft changed"),
            "document_requirements.published": _("Document requirements published"),
            "document_requirements.retired": _("Document requirements retired"),
            "document.downloaded": _("Document downloaded"),
            "document.checks_started": _("Document checks started"),
            "document.check_recorded": _("Document check result recorded"),
            "document.check_requeued": _("Document check re-queued"),
            "document.check_abandoned": _("Document check abandoned after repeated crashes"),
            "document.checked": _("Document checks concluded"),
            "document.recheck_requested": _("Document re-check requested"),
            "document.waived": _("Document waived"),
            "document.requirement_waived": _("Required document waived"),
            "document.reminder_sent": _("Document re-collection reminder sent"),
            "column_profile.confirmed": _("Column mapping confirmed as a bank's profile"),
        })
        # The application may not move on while a required document is not ready (§3.5).
        for stage, gate in checklist.GATES.items():
            register_guard(stage, gate)
        register_application_section(key="documents", template="documents/partials/checklist"
                                     "_section.html", context=checklist_section, order=40)
        register_evidence_source(DocumentEvidenceSource())
