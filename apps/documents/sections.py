"""The document checklist block of the application page (registered in DocumentsConfig)."""

from django.utils.translation import gettext_lazy as _

from apps.applications.permissions import can_prepare
from apps.documents.checklist import checklist_rows
from apps.documents.checks.messages import flag_text
from apps.documents.models import Document, DocumentReminder, may_recheck, may_waive_for
from apps.documents.states import CheckStatus, DocumentState

# Findings worth a glance on the checklist, in this order; the API returns them all.
_SUMMARY = [("pages", _("pages")), ("profile", _("layout")),
            ("transactions", _("transactions")), ("months_covered", _("months")),
            ("total_inflow", _("inflow (CNY)")), ("top_counterparty_share", _("top payer share")),
            ("site_distance_m", _("metres from the site")), ("taken_at", _("taken at")),
            ("revenue_12m", _("revenue, 12 months")), ("kwh_12m", _("kWh, 12 months")),
            ("expires_on", _("expires on"))]


def _summary(findings: dict) -> list[tuple[str, str]]:
    return [(str(label), str(findings[key])) for key, label in _SUMMARY
            if findings.get(key) not in (None, "")]


def _document_view(document: Document, viewer, *, may_recheck_here: bool,
                   may_waive_here: bool) -> dict:
    """One file with its checks; permissions were decided once for the application (the
    services check again on every action)."""
    from apps.documents.checklist import document_status

    checks = []
    for check in document.checks.all():
        flags = [{"text": flag_text(f), "info": f.get("severity") == "info"}
                 for f in check.findings.get("flags", [])]
        checks.append({"check": check, "flags": flags, "summary": _summary(check.findings),
                       "running": check.status in (CheckStatus.PENDING, CheckStatus.RUNNING)})
    return {"document": document, "status": document_status(document), "checks": checks,
            "may_recheck": may_recheck_here and document.state in (
                DocumentState.FAILED, DocumentState.PASSED, DocumentState.NEEDS_ATTENTION),
            # whoever uploaded a file never waives it (§3.5, someone other than the requester)
            "may_waive": may_waive_here and viewer.pk != document.uploaded_by_id
            and document.state not in (DocumentState.WAIVED, DocumentState.CHECKING)}


def checklist_context(viewer, application) -> dict:
    """Rows of the checklist with what the viewer may do on each; `polling` while any check
    runs, so the page refreshes itself until the results are in."""
    rows = checklist_rows(application)
    required_types = {row.requirement.document_type_id for row in rows}
    others = list(Document.objects.filter(application=application)
                  .exclude(document_type_id__in=required_types)
                  .select_related("document_type", "uploaded_by", "application")
                  .prefetch_related("checks"))
    may_waive = may_waive_for(application, viewer)
    flags = {"may_recheck_here": may_recheck(application, viewer), "may_waive_here": may_waive}
    views = []
    for row in rows:
        views.append({"row": row, "documents": [_document_view(d, viewer, **flags)
                                                for d in row.documents],
                      "may_waive": may_waive and row.waiver is None
                      and row.status not in ("passed", "waived")})
    other_views = [_document_view(d, viewer, **flags) for d in others]
    polling = any(d["document"].state in (DocumentState.UPLOADED, DocumentState.CHECKING)
                  and not d["document"].quarantined
                  for group in ([v for r in views for v in r["documents"]], other_views)
                  for d in group)
    reminders = list(DocumentReminder.objects.filter(document__application=application)
                     .select_related("document__document_type")[:10])
    return {"application": application, "rows": views, "others": other_views,
            "polling": polling, "may_upload": can_prepare(application, viewer),
            "reminders": reminders, "blocking": sum(1 for r in rows if r.blocking)}


def checklist_section(request, application) -> dict:
    """The page already fetched `application` through the viewer-scoped selector."""
    return checklist_context(request.user, application)
