"""The threshold dashboard: the products report's counts as charts, per condition, with the
admitted group's outcomes beside those each condition shuts out alone."""

import itertools
from decimal import Decimal

from django.urls import reverse

from apps.applications.models import Application
from apps.applications.tests.factories import World as EligibleWorld
from apps.insight.thresholds import threshold_dashboard

_n = itertools.count(1)


def _applicant(world, state, **facts):
    # An eligible firm (the applications tests' defaults), then the facts under test.
    enterprise = EligibleWorld.enterprise(world, **facts)
    manager = world.user("am.north")
    Application.objects.create(
        reference=f"TH{next(_n):06d}", enterprise=enterprise, product_version=world.version,
        branch=world.north, account_manager=manager, created_by=manager, state=state,
        amount_requested=Decimal("100000"))
    return enterprise


def test_threshold_charts_by_rule(world, client):
    _applicant(world, "approved")                                          # admitted, approved
    _applicant(world, "rejected", tax_credit_rating="C")                   # tax-rating alone
    _applicant(world, "draft", tax_credit_rating="C", size_class="medium")  # together
    dashboard = threshold_dashboard(viewer=world.user("lead.north"),
                                    product_id=world.version.product_id, version=None)
    charts = {c.key: c for c in dashboard["charts"]}
    rules = {r["code"]: r for r in charts["excluded_by_rule"].rows}
    assert (rules["tax-rating"]["alone"], rules["tax-rating"]["with_others"]) == (1, 1)
    assert (rules["size-class"]["alone"], rules["size-class"]["with_others"]) == (0, 1)
    assert rules["tax-rating"]["share"] == Decimal(2) / 3
    outcomes = {r["code"] or r["label"]: r for r in charts["performance_by_rule"].rows}
    assert outcomes["Admitted"]["approval_rate"] == Decimal(1)
    assert outcomes["tax-rating"]["approval_rate"] == Decimal(0)
    assert "size-class" not in outcomes  # excludes nobody alone

    client.force_login(world.user("lead.north"))
    page = client.get(reverse("insight:thresholds"), {"product": world.version.product_id})
    # Conditions are named by their fact in words, not by their code (issue #18).
    assert page.status_code == 200 and str(rules["tax-rating"]["label"]) in page.content.decode()
    assert rules["tax-rating"]["label"] != "tax-rating"
    xlsx = client.get(reverse("insight:thresholds-export", args=["excluded_by_rule", "xlsx"]),
                      {"product": world.version.product_id})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(reverse("insight:thresholds"), {"product": 999999}).status_code == 404
    client.force_login(world.user("am.north"))
    assert client.get(reverse("insight:thresholds")).status_code == 403


def test_the_dashboard_counts_what_the_products_report_counts(world):
    """The dashboard hands the report the product's version ids it read already: the figures
    are the report's own, as the products page (which reads them itself) shows them."""
    from django.utils import timezone

    from apps.products.report import threshold_report

    _applicant(world, "approved")
    _applicant(world, "rejected", tax_credit_rating="C")
    _applicant(world, "draft", tax_credit_rating="C", size_class="medium")
    viewer = world.user("lead.north")
    dashboard = threshold_dashboard(viewer=viewer, product_id=world.version.product_id,
                                    version=None)
    report = threshold_report(viewer=viewer, version=dashboard["version"],
                              on=timezone.localdate())
    shown = dashboard["report"]
    assert shown.enterprises == report.enterprises == 3
    assert shown.admitted_ids == report.admitted_ids
    assert [(r.condition.code, r.failed, r.excluded_alone, r.excluded_with_others, r.unknown)
            for r in shown.conditions] == [
        (r.condition.code, r.failed, r.excluded_alone, r.excluded_with_others, r.unknown)
        for r in report.conditions]
    assert (shown.admitted.applications, shown.excluded.applications) == (
        report.admitted.applications, report.excluded.applications)
