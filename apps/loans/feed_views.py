"""The feed imports page (/loans/feed/): what the core system sent, accepted or refused with
every refused row, and an upload form for a file the operations officer drops by hand."""

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from apps.documents.safety import UploadRejected, filename_sanitise, spool
from apps.loans.feed import may_import_feed, reason_text
from apps.loans.feed_files import feed_file_import
from apps.loans.feed_selectors import feed_import_list
from apps.loans.models import FeedImport

# A 100,000-row feed is about 8 MB as CSV; the limit leaves room without inviting abuse.
FEED_MAX_BYTES = getattr(settings, "LOANS_FEED_MAX_BYTES", 64 * 1024 * 1024)


class FeedUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Feed file (CSV or Excel)"),
                           help_text=gettext_lazy(
                               "Columns: source_record_id, kind, loan_number, date, and per "
                               "kind principal, interest / reverses / outstanding_principal, "
                               "overdue_principal, overdue_interest."))


@login_required
@require_http_methods(["GET", "POST"])
def feed_imports(request):
    """List imports (refused rows with line and reason) and take an uploaded file."""
    imports = feed_import_list(viewer=request.user)  # 403 for other roles
    may_import = may_import_feed(request.user)
    form = FeedUploadForm()
    if request.method == "POST":
        if not may_import:
            raise PermissionDenied(_("Only loan operations officers and administrators may "
                                     "import the core-banking feed."))
        form = FeedUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            with tempfile.TemporaryDirectory() as work_dir:
                try:
                    spooled = spool(upload.chunks(), max_bytes=FEED_MAX_BYTES, directory=work_dir)
                except UploadRejected as exc:
                    form.add_error("file", exc.message)
                else:
                    batch = feed_file_import(path=Path(spooled.path),
                                             filename=_safe_name(upload.name),
                                             actor=request.user).feed_import
                    if batch.outcome == FeedImport.Outcome.ACCEPTED:
                        messages.success(request, _(
                            "Imported: %(new)s new rows, %(dup)s already received.")
                            % {"new": batch.rows_new, "dup": batch.rows_duplicate})
                    else:
                        messages.error(request, _(
                            "Refused: nothing was imported. The refused rows are listed "
                            "below."))
                    return redirect(f"{request.path}#import-{batch.pk}")
    page = Paginator(imports, 20).get_page(request.GET.get("page"))
    for batch in page:
        batch.refusals = [{"line": e["line"], "field": e.get("field", ""),
                           "reason": reason_text(e)} for e in batch.errors[:500]]
        batch.more_refusals = max(len(batch.errors) - 500, 0)
    return render(request, "loans/feed_imports.html",
                  {"page": page, "form": form, "may_import": may_import})


def _safe_name(name: str) -> str:
    try:
        return filename_sanitise(name)
    except UploadRejected:
        return "feed"
