"""Insight pages: the portfolio dashboard, the enterprise portrait and their exports. Each
chart's table and its CSV/XLSX come from the same selector call as the chart, with the same
filters, so what is downloaded is what was seen. Permission first (403), then the viewer's
scope (404 outside it)."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from apps.insight import notifications as notification_selectors
from apps.insight import pipeline as pipeline_selectors
from apps.insight import portrait as portrait_selectors
from apps.insight import scorecard
from apps.insight import thresholds as threshold_selectors
from apps.insight.forms import PipelineFilterForm, PortfolioFilterForm
from apps.insight.officer_quality import officer_quality
from apps.insight.selectors import filter_choices, may_view_portfolio, portfolio_dashboard

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _export(chart, fmt: str, stem: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404("No such format")
    body = chart.csv() if fmt == "csv" else chart.xlsx()
    response = HttpResponse(body, content_type=EXPORT_TYPES[fmt])
    name = f"{stem}-{chart.key}-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _portfolio(request):
    if not may_view_portfolio(request.user):
        raise PermissionDenied
    form = PortfolioFilterForm(request.GET)
    filters = form.filters()
    return form, filters, portfolio_dashboard(viewer=request.user, filters=filters)


@login_required
def portfolio(request):
    """The book at a glance: outstanding by product, industry, size class and grade, the five
    categories, NPL ratio against tolerance, migration, vintage curves and concentration."""
    form, filters, dashboard = _portfolio(request)
    return render(request, "insight/portfolio.html", {
        **dashboard, "form": form, "filters": filters,
        "choices": filter_choices(viewer=request.user, products=dashboard["products"],
                                  branches=dashboard["branches"]),
        "export_url": reverse("insight:portfolio") + "export/",
        "query": request.GET.urlencode()})


@login_required
def portfolio_export(request, chart: str, fmt: str):
    """One chart's table as CSV or XLSX, under the same filters as the page."""
    _form, _filters, dashboard = _portfolio(request)
    found = next((c for c in dashboard["charts"] if c.key == chart), None)
    if found is None:
        raise Http404("No such chart")
    return _export(found, fmt, "portfolio")


@login_required
@permission_required("parties.view_enterprise", raise_exception=True)
def enterprise_portrait(request, enterprise_id: int):
    """One borrower at a glance: profile, files and loans, scores over time with their
    reasons, red flags, exposure, open signals and actions, documents and their expiry.
    404 outside the viewer's branches, like the enterprise page."""
    portrait = portrait_selectors.enterprise_portrait(viewer=request.user,
                                                      enterprise_id=enterprise_id)
    return render(request, "insight/enterprise.html", {
        **portrait,
        "export_url": reverse("insight:enterprise", args=[enterprise_id]) + "export/"})


@login_required
@permission_required("parties.view_enterprise", raise_exception=True)
def enterprise_export(request, enterprise_id: int, chart: str, fmt: str):
    portrait = portrait_selectors.enterprise_portrait(viewer=request.user,
                                                      enterprise_id=enterprise_id)
    charts = [*portrait["charts"], portrait["relations"], *portrait["series"]]
    found = next((c for c in charts if c.key == chart), None)
    if found is None:
        raise Http404("No such chart")
    return _export(found, fmt, f"enterprise-{enterprise_id}")


def _officer_charts(request) -> list:
    if not (request.user.is_superuser or request.user.roles):
        raise PermissionDenied
    everyone = request.user.is_superuser or request.user.has_role(*scorecard.ALL_OFFICER_ROLES)
    return [scorecard.officer_scorecard(viewer=request.user),
            officer_quality(viewer=request.user, everyone=everyone)]


@login_required
def officer_scorecard(request):
    """The officer scorecard: every officer of the viewer's branches for team leads and the
    bank-wide roles, one's own row for everyone else; exportable for the bonus round. Volume
    and post-loan work first, then the quality of the lending they investigated (§4.5)."""
    return render(request, "insight/officers.html", {
        "charts": _officer_charts(request),
        "export_url": reverse("insight:officers") + "export/"})


@login_required
def officer_scorecard_export(request, chart: str, fmt: str):
    found = next((c for c in _officer_charts(request) if c.key == chart), None)
    if found is None:
        raise Http404("No such chart")
    return _export(found, fmt, "officers")


def _pipeline(request):
    if not may_view_portfolio(request.user):
        raise PermissionDenied
    filters = PipelineFilterForm(request.GET).filters()
    return filters, pipeline_selectors.pipeline_dashboard(viewer=request.user, filters=filters)


@login_required
def pipeline(request):
    """Files by state and age against the policy deadlines, time in each step, bottlenecks by
    step and person, approval rate and turnaround by product and branch."""
    filters, dashboard = _pipeline(request)
    return render(request, "insight/pipeline.html", {
        **dashboard, "filters": filters,
        "choices": filter_choices(viewer=request.user, products=dashboard["products"],
                                  branches=dashboard["branches"]),
        "export_url": reverse("insight:pipeline") + "export/",
        "query": request.GET.urlencode()})


@login_required
def pipeline_export(request, chart: str, fmt: str):
    _filters, dashboard = _pipeline(request)
    found = next((c for c in dashboard["charts"] if c.key == chart), None)
    if found is None:
        raise Http404("No such chart")
    return _export(found, fmt, "pipeline")


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None  # a value that does not parse is ignored, like the other filters


def _thresholds(request):
    from apps.products.views import may_see_report

    if not may_see_report(request.user):
        raise PermissionDenied
    return threshold_selectors.threshold_dashboard(
        viewer=request.user, product_id=_int(request.GET.get("product")),
        version=_int(request.GET.get("version")),
        population=request.GET.get("population", "applicants"))


@login_required
def thresholds(request):
    """The threshold report as charts: whom each entry condition excludes, and how those it
    shuts out fared against the admitted (the same figures as the products report)."""
    dashboard = _thresholds(request)
    return render(request, "insight/thresholds.html", {
        **dashboard, "export_url": reverse("insight:thresholds") + "export/",
        "query": request.GET.urlencode()})


@login_required
def thresholds_export(request, chart: str, fmt: str):
    dashboard = _thresholds(request)
    found = next((c for c in dashboard["charts"] if c.key == chart), None)
    if found is None:
        raise Http404("No such chart")
    return _export(found, fmt, "thresholds")


@login_required
def notifications(request):
    """What waits for the viewer: approvals, returns, assignments, deadlines and signals."""
    return render(request, "insight/notifications.html",
                  notification_selectors.notification_centre(viewer=request.user))
