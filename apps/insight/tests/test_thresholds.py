"""The threshold dashboard: the products report's counts as charts, per condition, with the
admitted group's outcomes beside those each condition shuts out alone."""

import itertools
from decimal import Decimal

from django.urls import reverse

from apps.applications.models import Application
from apps.applications.tests.factories import World as EligibleWorld
from apps.insight.thresholds import threshold_dashboard
from apps.products.models import EntryCondition

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


def test_the_kept_reads_give_the_page_the_fallback_gives(world, monkeypatch):
    """On PostgreSQL the page reads products, versions and conditions in one batch and the
    population in another (SQL kept per shape of viewer, rows converted as the ORM converts
    them: a stored eligibility record decoded); the fallback (SQLite under `make run`) reads
    them one by one. The same page either way: the default product and a chosen one, both
    populations, the conditions' counts as of today and as stored at submission."""
    from apps.insight import thresholds

    _applicant(world, "approved")
    _applicant(world, "rejected", tax_credit_rating="C")
    _applicant(world, "draft", tax_credit_rating="C", size_class="medium")
    Application.objects.filter(state="approved").update(eligibility={
        "version_id": world.version.pk,
        "conditions": [{"code": "tax-rating", "passed": True, "missing": False},
                       {"code": "size-class", "passed": False, "missing": True}]})
    viewer = world.user("lead.north")

    def page(**kwargs):
        found = threshold_dashboard(viewer=viewer, version=None, **kwargs)
        report = found["report"]
        return ([(p.pk, p.code) for p in found["products"]], found["product"].pk,
                [(v.pk, v.version, v.in_force, v.get_state_display(), v.product.code)
                 for v in found["versions"]], found["version"].pk,
                [(c.key, c.rows, str(c.summary)) for c in found["charts"]],
                [(r.condition.pk, r.condition.value, r.failed, r.excluded_alone, r.unknown,
                  r.stored_checked, r.stored_failed, r.stored_unknown,
                  r.stored_passed_now_fails) for r in report.conditions],
                report.enterprises, report.stored_records, report.admitted_ids)

    product = world.version.product_id
    for kwargs in ({"product_id": None}, {"product_id": product},
                   {"product_id": product, "population": "customers"}):
        kept = page(**kwargs)
        with monkeypatch.context() as patch:
            patch.setattr(thresholds, "compiled", lambda *args, **kw: None)
            built = page(**kwargs)
        assert kept == built, kwargs
    applicants = page(product_id=product)
    assert applicants[6] == 3
    # The stored record, decoded: checked, failed, unknown per condition code.
    stored = {EntryCondition.objects.get(pk=row[0]).code: row[5:8] for row in applicants[5]}
    assert stored["tax-rating"] == (1, 0, 0) and stored["size-class"] == (1, 1, 1)
