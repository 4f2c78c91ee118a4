"""The portfolio dashboard: each figure against a hand-computed book, branch scoping, the
query count at two book sizes, exports and the menu."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.insight.selectors import PortfolioFilters, portfolio_dashboard
from apps.insight.tests.helpers import run, score
from apps.loans.models import Loan
from apps.parties.tests.factories import EnterpriseFactory

TODAY = timezone.localdate()
LAST_MONTH = TODAY - dt.timedelta(days=30)


@pytest.fixture
def book(world):
    """North: N1 (manufacturing, small) owes 100,000, 20 days late last month and 95 now;
    N2 (retail, micro) owes 300,000 + 50,000, current. South: S1 owes 50,000, 400 days late.
    Grades at approval: L1 B, L2 A, L3 and L4 not scored."""
    n1 = EnterpriseFactory(branch=world.north, industry="C", size_class="small", name="北一")
    n2 = EnterpriseFactory(branch=world.north, industry="F", size_class="micro", name="北二")
    s1 = EnterpriseFactory(branch=world.south, industry="C", size_class="small", name="南一")
    l1 = world.loan(enterprise=n1, dpd=20, outstanding="100000")
    l2 = world.loan(enterprise=n2, outstanding="300000")
    l3 = world.loan(enterprise=n2, outstanding="50000")
    l4 = world.loan(branch=world.south, enterprise=s1, dpd=400, outstanding="50000")
    score(l1.application, grade="B")
    score(l2.application, grade="C")
    score(l2.application, grade="A")  # the latest score is the one read
    run(LAST_MONTH)
    Loan.objects.filter(pk=l1.pk).update(dpd_principal=95)
    run(TODAY)
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4}


def _charts(dashboard) -> dict:
    return {chart.key: chart for chart in dashboard["charts"]}


def _by_label(chart, column="outstanding") -> dict:
    return {row["label"]: row[column] for row in chart.rows}


def test_book_figures_for_the_north_branch_head(world, book):
    dashboard = portfolio_dashboard(viewer=world.user("lead.north"), filters=PortfolioFilters())
    charts = _charts(dashboard)
    facts = dashboard["facts"]
    assert facts["loans"] == 3 and facts["outstanding"] == Decimal("450000")
    assert facts["npa"] == Decimal("100000")
    assert facts["npl_ratio"] == Decimal("100000") / Decimal("450000")
    assert facts["tolerance"] == Decimal("0.045")

    industry = charts["by_industry"]
    assert {k[:1]: v for k, v in _by_label(industry).items()} == {
        "F": Decimal("350000"), "C": Decimal("100000")}
    assert [r["loans"] for r in industry.rows] == [2, 1]  # largest first
    assert industry.rows[0]["share"] == Decimal("350000") / Decimal("450000")
    assert {k.split()[0]: v for k, v in _by_label(charts["by_size"]).items()} == {
        "Micro": Decimal("350000"), "Small": Decimal("100000")}
    assert _by_label(charts["by_grade"]) == {
        "A": Decimal("300000"), "B": Decimal("100000"), "Not scored": Decimal("50000")}
    assert list(_by_label(charts["by_product"]).values()) == [Decimal("450000")]

    categories = {row["code"]: (row["loans"], row["outstanding"])
                  for row in charts["categories"].rows}
    assert categories == {"normal": (2, Decimal("350000")),
                          "special_mention": (0, Decimal(0)),
                          "substandard": (1, Decimal("100000")),
                          "doubtful": (0, Decimal(0)), "loss": (0, Decimal(0))}
    assert "22.22%" in charts["categories"].summary

    npl = charts["npl_by_branch"]
    assert [(r["label"], r["ratio"]) for r in npl.rows] == [
        (world.north.name, Decimal("100000") / Decimal("450000"))]
    assert npl.reference[1] == Decimal("0.045")
    assert "above the tolerance of 4.50%" in npl.summary

    migration = charts["migration"]
    rows = {row["label"]: row for row in migration.rows}
    assert rows["Special mention (关注)"]["substandard"] == 1
    assert rows["Normal (正常)"]["normal"] == 2
    assert sum(v for r in migration.rows for k, v in r.items() if k != "label") == 3
    assert "1 loan moved to a worse category" in migration.summary

    top = charts["top_borrowers"]
    assert [(r["label"], r["outstanding"], r["loans"]) for r in top.rows] == [
        ("北二", Decimal("350000"), 2), ("北一", Decimal("100000"), 1)]
    assert "100.00%" in top.summary

    vintage = charts["vintages"]
    assert len(vintage.series) == 1
    values = [row[vintage.series[0]] for row in vintage.rows]
    assert values == [Decimal(0), Decimal("100000") / Decimal("450000")]


def test_auditor_sees_both_branches_and_filters_narrow(world, book):
    auditor = world.user("auditor.north")
    everything = portfolio_dashboard(viewer=auditor, filters=PortfolioFilters())
    assert everything["facts"]["outstanding"] == Decimal("500000")
    south = portfolio_dashboard(viewer=auditor,
                                filters=PortfolioFilters(branch_id=world.south.pk))
    assert south["facts"]["outstanding"] == Decimal("50000")
    assert _by_label(_charts(south)["top_borrowers"]) == {"南一": Decimal("50000")}
    assert [r["label"] for r in _charts(south)["npl_by_branch"].rows] == [world.south.name]
    cohort = portfolio_dashboard(viewer=auditor, filters=PortfolioFilters(
        disbursed_from=TODAY - dt.timedelta(days=10)))
    assert cohort["facts"]["loans"] == 0
    other = portfolio_dashboard(viewer=auditor, filters=PortfolioFilters(product_id=999999))
    assert other["facts"]["loans"] == 0
    assert _charts(other)["migration"].rows == []


def test_head_of_another_branch_sees_none_of_north(world, book, client):
    client.force_login(world.user("lead.south"))
    page = client.get(reverse("insight:portfolio"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "南一" in body and "北二" not in body and "北一" not in body
    assert "450,000" not in body
    assert client.get(reverse("insight:portfolio"), {"branch": world.north.pk}).status_code == 404
    export = reverse("insight:portfolio-export", args=["top_borrowers", "csv"])
    assert client.get(export, {"branch": world.north.pk}).status_code == 404
    assert "北二" not in client.get(export).content.decode("utf-8-sig")


def test_roles_without_a_book_are_refused(world, client):
    client.force_login(world.user("am.north"))
    assert client.get(reverse("insight:portfolio")).status_code == 403
    export = reverse("insight:portfolio-export", args=["by_product", "csv"])
    assert client.get(export).status_code == 403
    client.logout()
    assert client.get(reverse("insight:portfolio")).status_code == 302


def test_page_shows_sentences_and_localised_figures(world, book, client):
    client.force_login(world.user("lead.north"))
    body = client.get(reverse("insight:portfolio")).content.decode()
    assert "The book you may see holds 3 open loans with 450,000.00 outstanding." in body
    assert "is above the tolerance of 4.50%" in body
    assert 'id="chart-data-by_industry"' in body and 'data-chart="chart-data-npl_by_branch"' in body
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("insight:portfolio")).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "450,000.00" in body  # grouped by thousands in Chinese too (config/formats)


def test_exports_carry_the_same_rows(world, book, client):
    evil = EnterpriseFactory(branch=world.north, industry="C", name="=HYPERLINK(\"x\")")
    world.loan(enterprise=evil, outstanding="1")
    client.force_login(world.user("lead.north"))
    response = client.get(reverse("insight:portfolio-export", args=["top_borrowers", "csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Borrower", "Loans", "Outstanding principal", "Share of the book"]
    assert rows[1][:3] == ["北二", "2", "350000.00"]
    assert rows[-1][0] == "'=HYPERLINK(\"x\")"
    response = client.get(reverse("insight:portfolio-export", args=["by_grade", "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Grade at approval"
    assert (values[1][0], values[1][2]) == ("A", 300000)
    assert client.get(reverse("insight:portfolio-export", args=["nope", "csv"])).status_code == 404
    assert client.get(reverse("insight:portfolio-export",
                              args=["by_grade", "pdf"])).status_code == 404


def _count(viewer) -> int:
    with CaptureQueriesContext(connection) as queries:
        portfolio_dashboard(viewer=viewer, filters=PortfolioFilters())
    return len(queries)


def test_constant_queries_whatever_the_book(world, django_assert_num_queries):
    """A fresh user each time (its roles are read once per request, as in a page view):
    scope (roles, branch tree), five breakdowns, product names, top borrowers, NPL (policy and
    figures), tolerance, run dates, migration, vintage snapshots."""
    run(LAST_MONTH)
    run(TODAY)
    baseline = _count(world.user("lead.north"))
    assert baseline <= 17
    for _ in range(2):
        score(world.loan(dpd=40).application, grade="B")
    run(LAST_MONTH - dt.timedelta(days=31))
    viewer = world.user("lead.north")
    with django_assert_num_queries(baseline):
        small = portfolio_dashboard(viewer=viewer, filters=PortfolioFilters())
    for _ in range(8):
        score(world.loan(outstanding="7000").application, grade="C")
    world.loan(branch=world.south)
    viewer = world.user("lead.north")
    with django_assert_num_queries(baseline):
        large = portfolio_dashboard(viewer=viewer, filters=PortfolioFilters())
    assert (small["facts"]["loans"], large["facts"]["loans"]) == (2, 10)


def test_menu_links_the_dashboard_for_branch_heads_only(world, client):
    client.force_login(world.user("lead.north"))
    assert reverse("insight:portfolio") in client.get(reverse("web:home")).content.decode()
    client.force_login(world.user("am.north"))
    assert reverse("insight:portfolio") not in client.get(reverse("web:home")).content.decode()


def test_policy_read_for_the_page_equals_monitorings(world):
    """The page reads its three policy values at once (`values_in_force`): the NPL floor and
    tolerance are monitoring's own (`Policy`, `npl_tolerance`), and a missing value gives the
    same gap as before."""
    from apps.insight.selectors import POLICY_KEYS, _npa_dpd_floor, _tolerance
    from apps.insight.summaries import values_in_force
    from apps.investigations.models import PolicyValue
    from apps.monitoring.policy import K, MissingPolicy, Policy, PolicyNotConfigured
    from apps.monitoring.selectors import npl_tolerance

    policy = values_in_force(POLICY_KEYS)
    assert _npa_dpd_floor(policy) == (Policy().integer(K.FLOOR_SUBSTANDARD_DPD_GT), None)
    assert _tolerance(policy) == npl_tolerance() == Decimal("0.045")
    # A new version from tomorrow changes nothing today; one from today wins.
    latest = PolicyValue.objects.filter(key=K.NPL_TOLERANCE_PP).order_by("-version").first()
    PolicyValue.objects.create(key=K.NPL_TOLERANCE_PP, value=Decimal("0.05"), unit="ratio",
                               version=latest.version + 1,
                               effective_from=TODAY + dt.timedelta(days=1))
    assert _tolerance(values_in_force(POLICY_KEYS)) == npl_tolerance() == Decimal("0.045")
    assert _tolerance(values_in_force(POLICY_KEYS, on=TODAY + dt.timedelta(days=1))) == \
        npl_tolerance(on=TODAY + dt.timedelta(days=1))
    PolicyValue.all_versions.filter(key__in=[K.FLOOR_SUBSTANDARD_DPD_GT,
                                             K.NPL_BANK_RATIO]).delete()
    policy = values_in_force(POLICY_KEYS)
    assert _tolerance(policy) is None and npl_tolerance() is None
    with pytest.raises(MissingPolicy) as missing:
        Policy().integer(K.FLOOR_SUBSTANDARD_DPD_GT)
    assert _npa_dpd_floor(policy) == (None, str(PolicyNotConfigured(str(missing.value)).detail))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_table_body_is_the_cell_loop_it_replaced(language):
    """The chart partial's table rows (`table_body`) are what its loop over cells wrote, in
    both languages: row headers, figures right-aligned, text escaped, empty cells a dash."""
    from django.template import Context, Template
    from django.utils import translation

    from apps.insight.charts import COUNT, MONEY, RATIO, TEXT, Chart, Column

    chart = Chart(key="k", title="t", kind="bar", category="label", series=["n"],
                  columns=[Column("label", "L"), Column("n", "N", COUNT),
                           Column("m", "M", MONEY), Column("r", "R", RATIO),
                           Column("x", "X", TEXT)],
                  rows=[{"label": "<b>北一 & Co</b>", "n": 1234567, "m": Decimal("1234.5"),
                         "r": Decimal("0.04567"), "x": "a<b"},
                        {"label": 7, "n": None, "m": "", "r": Decimal(0), "x": None},
                        {"label": "-", "n": -5, "m": Decimal("-1234567.891"),
                         "r": Decimal("12.345678"), "x": ""}])
    loop = Template(
        '{% load insight %}{% for row in chart.table %}<tr>{% for c in row %}'
        '{% if forloop.first %}<th scope="row">{{ c.value|cell:c.kind }}</th>{% else %}'
        '<td{% if c.kind != "text" %} class="num"{% endif %}>{{ c.value|cell:c.kind }}</td>'
        '{% endif %}{% endfor %}</tr>{% endfor %}')
    with translation.override(language):
        before = loop.render(Context({"chart": chart}))
        after = Template("{% load insight %}{{ chart|table_body }}").render(
            Context({"chart": chart}))
    assert after == before
    assert "&lt;b&gt;北一 &amp; Co&lt;/b&gt;" in after and "1,234,567" in after
    assert after.count("<tr>") == 3 and "—" in after


# What insight/partials/chart.html rendered before `chart_section` replaced it (issue #22).
_CHART_PARTIAL = (
    '{% load i18n insight %}{# One chart, its table and its exports; `chart'
    '` is an apps.insight.charts.Chart. #}\n'
    '<section class="insight-chart card" id="section-{{ chart.key }}" aria-'
    'labelledby="title-{{ chart.key }}">\n'
    '  <h2 id="title-{{ chart.key }}">{{ chart.title }}</h2>\n'
    '  {% if chart.summary %}<p class="insight-summary">{{ chart.summary }}'
    '</p>{% endif %}\n'
    '  {% if chart.rows %}\n'
    '  <div class="insight-pair">\n'
    '    {% with payload_id="chart-data-"|add:chart.key %}\n'
    '    {{ chart.payload|json_script:payload_id }}\n'
    '    <div class="chart" data-chart="{{ payload_id }}" role="img" aria-l'
    'abel="{{ chart.title }}"></div>\n'
    '    {% endwith %}\n'
    '    <div class="table-wrap">\n'
    '      <table class="table insight-table">\n'
    '        <caption class="visually-hidden">{{ chart.title }}</caption>\n'
    '        <thead><tr>{% for column in chart.columns %}<th scope="col"{% '
    'if column.kind != "text" %} class="num"{% endif %}>{{ column.label }}<'
    '/th>{% endfor %}</tr></thead>\n'
    '        <tbody>{{ chart|table_body }}</tbody>\n'
    '      </table>\n'
    '    </div>\n'
    '  </div>\n'
    '  {% if export_url %}<p class="insight-export">{% translate "Download '
    'this table:" %}\n'
    '    <a href="{{ export_url }}{{ chart.key }}.csv{% if query %}?{{ quer'
    'y }}{% endif %}" download>{% translate "CSV" %}</a> ·\n'
    '    <a href="{{ export_url }}{{ chart.key }}.xlsx{% if query %}?{{ que'
    'ry }}{% endif %}" download>{% translate "Excel (XLSX)" %}</a></p>{% endif %}\n'
    '  {% else %}<p class="muted">{{ chart.empty_text }}</p>{% endif %}\n'
    '</section>\n'
)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_chart_section_is_the_partial_it_replaced(language):
    """`chart_section` writes what the chart partial wrote, byte for byte, in both languages:
    with and without a summary, rows, an export link and a query; every text escaped."""
    from django.template import Context, Template
    from django.utils import translation

    from apps.insight.charts import COUNT, MONEY, RATIO, TEXT, Chart, Column

    def chart(**extra):
        fields = {"rows": [{"label": "<b>北一 & Co</b>", "n": 1234567, "m": Decimal("1234.5"),
                            "r": Decimal("0.04567"), "x": "a<b"},
                           {"label": 7, "n": None, "m": "", "r": Decimal(0), "x": "</script>"}],
                  **extra}
        return Chart(key="k<1>", title="T & <i>t</i>", kind="bar", category="label",
                     series=["n"], columns=[Column("label", "L<"), Column("n", "N", COUNT),
                                            Column("m", "M", MONEY), Column("r", "R", RATIO),
                                            Column("x", "X&", TEXT)], **fields)

    charts = [chart(), chart(summary="S <&> s"), chart(rows=[]),
              chart(rows=[], summary="only a summary", empty_text="none <here>")]
    partial = Template(_CHART_PARTIAL)
    section = Template("{% load insight %}{% chart_section chart %}")
    with translation.override(language):
        for one in charts:
            for page in ({}, {"export_url": "/insight/x/export/"},
                         {"export_url": "/insight/x/export/", "query": "branch=1&product=<2>"}):
                before = partial.render(Context({"chart": one, **page}))
                after = section.render(Context({"chart": one, **page}))
                assert after == before, (one.summary, page)
        full = section.render(Context({"chart": charts[0], "export_url": "/e/", "query": "a&b"}))
    assert "&lt;b&gt;北一 &amp; Co&lt;/b&gt;" in full and "&lt;/script&gt;" in full
    assert "\\u003Cb\\u003E" in full  # the chart's JSON, escaped for a script
    assert full.count("<tr>") == 3 and "/e/k&lt;1&gt;.csv?a&amp;b" in full
