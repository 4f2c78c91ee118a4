"""The portfolio dashboard on a phone (360 px), in English and 简体中文: every chart with data
draws an SVG whose legend shows the same series the table beside it names, and nothing
scrolls sideways."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.e2e.layout import assert_fits, phone_signed_in

CHARTS_WITH_DATA = ["by_product", "by_industry", "by_size", "by_grade", "categories",
                    "npl_by_branch", "migration", "top_borrowers"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_portfolio_dashboard_on_a_phone(demo_site, browser, page_errors, language):
    from django.utils import translation

    from apps.insight.tests.helpers import run, score
    from apps.loans.models import Loan
    from apps.monitoring.tests.factories import World

    with translation.override("en"):
        world = World()
    late = world.loan(dpd=20, outstanding="120000")
    score(late.application, grade="B")
    score(world.loan(outstanding="300000").application, grade="A")
    world.loan(outstanding="80000")
    today = timezone.localdate()
    run(today - dt.timedelta(days=30))
    Loan.objects.filter(pk=late.pk).update(dpd_principal=95)
    run(today)

    with phone_signed_in(browser, demo_site, "lead.north", language, page_errors) as page:
        page.goto(f"{demo_site}/insight/portfolio/")
        assert page.locator("html").get_attribute("lang") == language
        for key in CHARTS_WITH_DATA:
            chart = page.locator(f'#section-{key} .chart[data-rendered="true"] svg')
            chart.wait_for()
            legend = page.locator(f"#section-{key} .chart svg text")
            texts = legend.all_text_contents()
            if key == "categories":  # a pie's legend names its slices: the table's first column
                expected = page.locator(f"#section-{key} tbody th").first.text_content()
            else:  # a bar chart's legend names its series: the plotted column's header
                expected = page.locator(f"#section-{key} thead th").nth(
                    1 if key == "migration" else
                    4 if key == "npl_by_branch" else 2).text_content()
            assert expected.strip() in [t.strip() for t in texts], (key, expected, texts)
        assert_fits(page, 360)
        # The phone menu leads to the dashboard too.
        page.locator(".menu-toggle").click()
        page.locator('.nav a[href="/insight/portfolio/"]').wait_for()
        assert_fits(page, 360)
    assert page_errors == []
