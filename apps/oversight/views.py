"""The auditors' pages: search, exports, integrity, per-application trail and evidence pack.

Every view is `auditor_required` (403 for every other role, audited by the 403 handler) and
reads through this app's selectors; nothing here changes a workflow record. What auditors open
and take away is itself recorded (services: export, download, trail and pack views).
"""

from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.applications.models import Application
from apps.audit.registry import action_label
from apps.core.pagination import is_whole_number
from apps.org.models import Branch
from apps.oversight import services
from apps.oversight.access import auditor_required
from apps.oversight.duties import build_pack
from apps.oversight.exports import begin_export, stream_csv, stream_json
from apps.oversight.forms import EventFilterForm
from apps.oversight.models import ExportJob
from apps.oversight.selectors import audit_event_page
from apps.oversight.states import ExportJobState, ExportKind
from apps.oversight.trail import build_trail

PAGE_SIZE = 50


def _filters(request) -> tuple[EventFilterForm, dict | None]:
    form = EventFilterForm(request.GET or None)
    if not request.GET:
        return form, {}
    return form, (form.as_filters() if form.is_valid() else None)


def _query_without(request, *names) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k not in names])


@auditor_required
def event_search(request):
    """Filter the trail; newest first, 50 a page, keyset-paged on seq (constant queries)."""
    form, filters = _filters(request)
    rows, next_before = [], None
    if filters is not None:
        before = request.GET.get("before")
        rows, next_before = audit_event_page(
            viewer=request.user, filters=filters, size=PAGE_SIZE,
            # A hand-edited `before` link is not a filter error: show the newest page.
            before_seq=int(before) if before and is_whole_number(before) else None)
    branches = dict(Branch.objects.values_list("pk", "name"))
    base = _query_without(request, "before")
    return render(request, "oversight/events.html", {
        "form": form, "valid": filters is not None,
        "rows": [{"event": e, "label": action_label(e.action),
                  "branch": branches.get(e.branch_id, "")} for e in rows],
        "next_url": f"?{base}&before={next_before}" if next_before else "",
        "first_url": f"?{base}" if request.GET.get("before") else "",
        "query": base,
    })


def _stream(request, fmt: str):
    form, filters = _filters(request)
    if filters is None:
        return render(request, "oversight/events.html",
                      {"form": form, "valid": False, "rows": []}, status=400)
    pinned, manifest = begin_export(viewer=request.user, filters=filters)
    services.events_exported(actor=request.user, fmt=fmt, filters=filters,
                             head_seq=manifest.head_seq)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        body = stream_csv(viewer=request.user, filters=pinned, manifest=manifest)
        content_type = "text/csv; charset=utf-8"
    else:
        body = stream_json(viewer=request.user, filters=pinned, manifest=manifest)
        content_type = "application/json"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@auditor_required
def events_csv(request):
    return _stream(request, "csv")


@auditor_required
def events_json(request):
    return _stream(request, "json")


@auditor_required
@require_POST
def events_xlsx(request):
    """XLSX is built by a worker: a spreadsheet library cannot stream to the client."""
    form = EventFilterForm(request.POST)
    if not form.is_valid():
        return render(request, "oversight/events.html",
                      {"form": form, "valid": False, "rows": []}, status=400)
    job = services.export_job_request(kind=ExportKind.EVENTS_XLSX, actor=request.user,
                                      filters=form.as_filters())
    return redirect("oversight:job", job_id=job.pk)


@auditor_required
def job_list(request):
    jobs = ExportJob.objects.select_related("application").order_by("-created_at")[:50]
    return render(request, "oversight/jobs.html", {"jobs": jobs})


@auditor_required
def job_detail(request, job_id):
    """Progress page; htmx polls the partial every two seconds until the job ends."""
    job = get_object_or_404(ExportJob.objects.select_related("application", "requested_by"),
                            pk=job_id)
    template = ("oversight/partials/job_status.html" if request.htmx
                else "oversight/job.html")
    return render(request, template, {
        "job": job, "running": job.state in (ExportJobState.QUEUED, ExportJobState.RUNNING)})


@auditor_required
def job_download(request, job_id):
    job = get_object_or_404(ExportJob, pk=job_id, state=ExportJobState.DONE)
    try:
        source = services.export_job_download(job=job, actor=request.user)
    except FileNotFoundError:
        raise Http404(_("The export file is no longer available.")) from None
    if isinstance(source, str):  # a short-lived signed URL of the object store
        response = HttpResponseRedirect(source)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    return FileResponse(source, as_attachment=True,
                        filename=services.export_download_filename(job))


def _application(application_id: int) -> Application:
    return get_object_or_404(Application.objects.select_related("enterprise", "branch"),
                             pk=application_id)


@auditor_required
def application_trail(request, application_id: int):
    application = _application(application_id)
    services.application_viewed(actor=request.user, application=application, what="trail")
    return render(request, "oversight/trail.html", {"trail": build_trail(application)})


@auditor_required
def application_pack(request, application_id: int):
    application = _application(application_id)
    services.application_viewed(actor=request.user, application=application, what="pack")
    return render(request, "oversight/pack.html", {"pack": build_pack(application)})


@auditor_required
@require_POST
def application_pdf(request, application_id: int, kind: str):
    kinds = {"trail": ExportKind.TRAIL_PDF, "pack": ExportKind.PACK_PDF}
    if kind not in kinds:
        raise Http404
    _application(application_id)
    job = services.export_job_request(kind=kinds[kind], actor=request.user,
                                      application_id=application_id)
    return redirect("oversight:job", job_id=job.pk)


def _seq(value) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not is_whole_number(value) or int(value) < 1:
        raise ValueError(value)
    return int(value)


@auditor_required
@require_http_methods(["GET", "POST"])
def integrity(request):
    """Verify a range of the chain now and name the first bad link."""
    report, errors, values = None, {}, {"from_seq": "", "to_seq": ""}
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in values}
        bounds = {}
        for key in values:
            try:
                bounds[key] = _seq(values[key])
            except ValueError:
                errors[key] = _("Enter a positive event number, or leave it empty.")
        if not errors and None not in (bounds["from_seq"], bounds["to_seq"]) \
                and bounds["from_seq"] > bounds["to_seq"]:
            errors["to_seq"] = _("The last event must not come before the first.")
        if not errors:
            report = services.chain_check(actor=request.user, start_seq=bounds["from_seq"],
                                          end_seq=bounds["to_seq"])
    return render(request, "oversight/integrity.html",
                  {"report": report, "errors": errors, "values": values},
                  status=400 if errors else 200)


@auditor_required
def home(request):
    return HttpResponseRedirect(reverse("oversight:events"))
