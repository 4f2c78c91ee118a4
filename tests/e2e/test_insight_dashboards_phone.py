"""The pipeline, threshold and officer dashboards, the portrait's relations graph and the
notification centre on a phone (360 px), in English and 简体中文: each chart with data draws an
SVG whose legend names what the table beside it names, and nothing scrolls sideways."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.e2e.layout import assert_fits, phone_signed_in

# page → [(chart key, how to find the legend's expected text in the chart's table)]
CHARTS = {
    "/insight/pipeline/": [("open_by_state", "thead th", 2), ("time_in_step", "thead th", 2),
                           ("approval_by_product", "thead th", 3),
                           ("approval_by_branch", "thead th", 3)],
    "/insight/thresholds/": [("excluded_by_rule", "thead th", 3),
                             ("performance_by_rule", "thead th", 3)],
    "/insight/officers/": [("officers", "thead th", 2), ("officer_quality", "thead th", 2)],
}


def _world():
    from django.utils import translation

    from apps.applications.tests.factories import World as EligibleWorld
    from apps.insight.tests.test_officer_quality import _investigation
    from apps.insight.tests.test_pipeline import _file, _move
    from apps.insight.tests.test_thresholds import _applicant
    from apps.investigations.models import PolicyValue
    from apps.monitoring.tests.factories import World
    from apps.parties.models import Relationship
    from apps.parties.tests.factories import EnterpriseFactory, PersonFactory

    with translation.override("en"):
        world = World()
    now = timezone.now()
    PolicyValue.objects.create(key="pipeline.deadline_days.submitted", value=Decimal(2),
                               unit="days", version=1,
                               effective_from=timezone.localdate() - dt.timedelta(days=10))
    moving = _file(world, state="investigating")
    _move(moving, "application.submitted", "draft", "submitted", 6)
    _move(moving, "application.investigation_started", "submitted", "investigating", 3)
    _file(world, state="disbursed", submitted_at=now - dt.timedelta(days=20),
          decided_at=now - dt.timedelta(days=5))
    _file(world, state="rejected", submitted_at=now - dt.timedelta(days=9),
          decided_at=now - dt.timedelta(days=2))
    _applicant(world, "approved")
    _applicant(world, "rejected", tax_credit_rating="C")
    firm = EligibleWorld.enterprise(world, name="北辰贸易")
    Relationship.objects.create(kind="guarantor", to_enterprise=firm,
                                from_enterprise=EnterpriseFactory(branch=world.north))
    Relationship.objects.create(kind="shareholder", to_enterprise=firm,
                                from_person=PersonFactory(), stake_percent=60)
    loan = world.loan(enterprise=firm, dpd=10)
    _investigation(world, loan, [{"kind": "control", "code": "PHOTO_OFF_SITE",
                                  "severity": "R2", "message_en": "off site"}])
    return firm, world.version.product_id


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_dashboards_on_a_phone(demo_site, browser, language):
    firm, product = _world()
    errors = []
    with phone_signed_in(browser, demo_site, "lead.north", language, errors) as page:
        pages = {**CHARTS, f"/insight/enterprises/{firm.pk}/": [("relations", "tbody td", 0)]}
        pages[f"/insight/thresholds/?product={product}"] = pages.pop("/insight/thresholds/")
        for path, charts in pages.items():
            page.goto(f"{demo_site}{path}")
            assert page.locator("html").get_attribute("lang") == language
            for key, cells, index in charts:
                page.locator(f'#section-{key} .chart[data-rendered="true"] svg').wait_for()
                texts = [t.strip() for t in
                         page.locator(f"#section-{key} .chart svg text").all_text_contents()]
                expected = page.locator(f"#section-{key} {cells}").nth(index).text_content()
                assert expected.strip() in texts, (path, key, expected, texts)
            assert_fits(page, 360)
        page.goto(f"{demo_site}/insight/notifications/")
        assert page.locator("#notices-signal").count() == 1
        assert_fits(page, 360)
    assert errors == []
