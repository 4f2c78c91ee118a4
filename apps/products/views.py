"""Product pages: the catalogue with each version's entry conditions, and the threshold report
(page and CSV) that shows a product owner which condition shuts out which applicants."""

import csv

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.accounts.roles import Role
from apps.products.models import CreditProduct
from apps.products.report import (
    Population,
    ThresholdReport,
    condition_value_display,
    default_report_version,
    report_versions,
    threshold_report,
)
from apps.products.selectors import product_list

# Those who judge credit policy; account managers sell the product and don't see its rejects.
REPORT_ROLES = (Role.ADMIN, Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR)

# Spreadsheet formula injection (OWASP "CSV injection"): these first characters make Excel or
# LibreOffice evaluate a cell, so such cells are prefixed with an apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def may_see_report(user) -> bool:
    return user.is_superuser or user.has_role(*REPORT_ROLES)


def _require_report_role(user) -> None:
    if not may_see_report(user):
        raise PermissionDenied


@login_required
@permission_required("products.view_creditproduct", raise_exception=True)
def product_list_page(request):
    """Every product with its versions and their conditions (bank-wide configuration)."""
    products = [
        {"product": product, "versions": [
            {"version": version, "conditions": [
                {"condition": c, "value": condition_value_display(c)}
                for c in version.conditions.all()]}
            for version in product.versions.all()]}
        for product in product_list().prefetch_related("versions__conditions")]
    return render(request, "products/product_list.html",
                  {"products": products, "may_see_report": may_see_report(request.user),
                   "is_policy_officer": request.user.has_role(Role.POLICY_OFFICER)})


def _report_for(request, code: str) -> tuple[ThresholdReport, list]:
    """The report for the version and population in the query string (defaults: the version
    in force today, applicants). An unknown version of this product is a 404."""
    _require_report_role(request.user)
    product = get_object_or_404(CreditProduct, code=code)
    today = timezone.localdate()
    versions = report_versions(product=product)
    wanted = request.GET.get("version", "")
    if wanted:
        version = next((v for v in versions if str(v.version) == wanted), None)
        if version is None:
            raise Http404("No such version")
    else:
        version = default_report_version(product=product, on=today)
        if version is None:
            raise Http404("Product without versions")
    population = request.GET.get("population", Population.APPLICANTS)
    if population not in Population.values:
        population = Population.APPLICANTS
    report = threshold_report(viewer=request.user, version=version, on=today,
                              population=population)
    return report, versions


@login_required
def threshold_report_page(request, code: str):
    """Per condition: how many it excludes, alone or with others, and how the admitted fared."""
    report, versions = _report_for(request, code)
    return render(request, "products/threshold_report.html", {
        "report": report, "versions": versions, "populations": Population.choices,
    })


def _cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


@login_required
def threshold_report_csv(request, code: str):
    """The same figures as the page, one row per condition plus the admitted/excluded groups.

    UTF-8 with a BOM: without it Excel on Windows reads the Chinese reasons as mojibake.
    """
    report, _versions = _report_for(request, code)
    filename = (f"threshold-report-{report.product.code}-v{report.version.version}-"
                f"{report.population}-{report.evaluated_on.isoformat()}.csv")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    # Column names stay English codes, like the audit export: scripts read them.
    writer.writerow([
        "row", "product", "version", "population", "evaluated_on", "condition", "fact",
        "operator", "value", "in_force", "reason_en", "reason_zh", "enterprises", "failed",
        "excluded_alone", "excluded_with_others", "unknown_data",
        "excluded_alone_strong_profile_proxy", "stored_checked", "stored_failed",
        "stored_unknown", "stored_passed_now_fails", "applications", "reached_approval",
        "rejected", "approval_rate_percent", "loans", "bad_loans",
    ])
    head = [report.product.code, report.version.version, report.population,
            report.evaluated_on.isoformat()]
    for row in report.conditions:
        c, alone = row.condition, row.excluded_alone_outcomes
        writer.writerow([_cell(v) for v in [
            "condition", *head, c.code, c.fact, c.operator, row.value_display, row.in_force,
            c.reason_en, c.reason_zh, report.enterprises, row.failed, row.excluded_alone,
            row.excluded_with_others, row.unknown, alone.strong_profile, row.stored_checked,
            row.stored_failed, row.stored_unknown, row.stored_passed_now_fails,
            alone.applications, alone.reached_approval, alone.rejected, alone.approval_rate,
            alone.loans, alone.bad_loans]])
    for name, group in (("admitted", report.admitted), ("excluded", report.excluded)):
        writer.writerow([_cell(v) for v in [
            name, *head, "", "", "", "", "", "", "", group.enterprises, "", "", "", "",
            group.strong_profile, "", "", "", "", group.applications, group.reached_approval,
            group.rejected, group.approval_rate, group.loans, group.bad_loans]])
    return response
