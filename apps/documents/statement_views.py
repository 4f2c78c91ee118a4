"""The page on which an officer or reviewer confirms a proposed column mapping once for a
bank (issue 19). The service checks permission (403) before state (409) and refuses a mapping
that cannot be read (400), shown beside the form with its status."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.exceptions import DomainError
from apps.documents.models import may_recheck
from apps.documents.selectors import document_get
from apps.documents.statements.profiles import FIELDS, column_profile_confirm, proposal_for

PREVIEW_ROWS = 5


def _field_labels() -> dict[str, str]:
    return {"date": _("Date"), "description": _("Description"), "counterparty": _("Counterparty"),
            "counterparty_account": _("Counterparty account"),
            "debit": _("Debit (money out)"), "credit": _("Credit (money in)"),
            "amount": _("Amount (signed)"), "direction": _("Debit/credit marker"),
            "balance": _("Balance"), "channel": _("Channel"), "period": _("Period"),
            "revenue": _("Revenue"), "tax_paid": _("Tax paid"),
            "rate": _("Tax rate (税率 / 征收率)"),
            "kwh": _("Usage (kWh, m³)"), "cost": _("Cost"),
            "reading_start": _("Meter reading at start"),
            "reading_end": _("Meter reading at end")}


def mapping_context(document, *, columns=None, bank="", error=""):
    kind, proposal, rows = proposal_for(document)
    chosen = columns if columns is not None else (proposal.columns if proposal else {})
    by_index = {i: f for f, i in chosen.items()}
    header = proposal.header_row if proposal is not None else None
    headers = rows[header] if header is not None else []
    data_rows = (proposal.data_rows[:PREVIEW_ROWS] if proposal is not None else [])
    labels = _field_labels()
    table = [{"index": i, "header": str(h or ""), "field": by_index.get(i, ""),
              "samples": [str(rows[r][i]) if i < len(rows[r]) and rows[r][i] is not None
                          else "" for r in data_rows]}
             for i, h in enumerate(headers)]
    return {"document": document, "kind": kind, "proposal": proposal, "columns": table,
            "fields": [(f, labels.get(f, f)) for f in FIELDS[kind]], "bank": bank,
            "error": error}


@require_http_methods(["GET", "POST"])
@login_required
def column_mapping(request, document_id: int):
    document = document_get(viewer=request.user, document_id=document_id)  # 404
    if not may_recheck(document.application, request.user):
        raise PermissionDenied(_("You may not confirm this document's columns."))
    if request.method == "GET":
        try:
            context = mapping_context(document)
        except DomainError as exc:
            return render(request, "documents/refused.html", {"detail": exc.detail},
                          status=exc.status_code)
        return render(request, "documents/column_mapping.html", context)
    columns = {}
    for key, value in request.POST.items():
        if key.startswith("col-") and value:
            try:
                columns[value] = int(key[4:])
            except ValueError:
                continue
    bank = request.POST.get("bank", "")
    try:
        column_profile_confirm(document_id=document.pk, actor=request.user, bank=bank,
                               columns=columns,
                               date_format=request.POST.get("date_format") or None)
    except DomainError as exc:
        detail = " ".join([str(exc.detail), *(str(m) for ms in exc.fields.values() for m in ms)])
        try:
            context = mapping_context(document, columns=columns, bank=bank, error=detail)
        except DomainError:
            return render(request, "documents/refused.html", {"detail": detail},
                          status=exc.status_code)
        return render(request, "documents/column_mapping.html", context,
                      status=exc.status_code)
    return redirect("applications:detail", document.application_id)
