import csv
import io

import pytest
from django.urls import reverse

from apps.applications.tests.factories import World
from apps.demo.lifecycle import walk_to_state
from apps.products.models import EntryCondition

pytestmark = pytest.mark.django_db

REPORT = reverse("products:threshold-report", args=["tax-credit-loan"])
CSV = reverse("products:threshold-report-csv", args=["tax-credit-loan"])


@pytest.fixture
def world():
    world = World()
    walk_to_state(world.draft(), "submitted", branch_code="north")
    world.draft(enterprise=world.enterprise(tax_credit_rating="C"))
    return world


def _login(client, world, username):
    client.force_login(world.user(username))
    return client


def test_product_list_shows_versions_and_conditions_to_any_staff(client, world):
    response = _login(client, world, "am.north").get(reverse("products:product-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-product="tax-credit-loan"' in html and "Tax credit rating A, B or M" in html
    assert "18 – 65" in html and "1000000" in html
    assert REPORT not in html  # account managers get no report link


def test_product_list_links_the_report_for_report_roles(client, world):
    html = _login(client, world, "lead.north").get(reverse("products:product-list")).content
    assert REPORT in html.decode()


@pytest.mark.parametrize("username", ["admin.north", "lead.north", "reviewer.south",
                                      "approver.north", "auditor.south"])
def test_report_roles_see_the_page(client, world, username):
    response = _login(client, world, username).get(REPORT)

    html = response.content.decode()
    assert response.status_code == 200
    assert "A what-if on current data" in html
    assert 'data-condition="tax-rating"' in html
    assert "At decision (stored record)" in html


@pytest.mark.parametrize("url", [REPORT, CSV])
@pytest.mark.parametrize("username", ["am.north", "committee.north", "postloan.south"])
def test_others_are_refused(client, world, username, url):
    assert _login(client, world, username).get(url).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, world):
    assert client.get(REPORT).status_code == 302


def test_page_figures(client, world):
    html = _login(client, world, "admin.north").get(REPORT).content.decode()

    assert '<p class="figure" data-figure="admitted">1</p>' in html
    assert '<p class="figure" data-figure="excluded">1</p>' in html
    assert 'data-group="tax-rating"' in html  # the one excluded by the rating alone


def test_version_and_population_are_chosen_in_the_query_string(client, world):
    client = _login(client, world, "admin.north")

    assert client.get(REPORT, {"version": "1", "population": "customers"}).status_code == 200
    assert client.get(REPORT, {"version": "9"}).status_code == 404
    assert client.get(REPORT, {"population": "everyone"}).status_code == 200  # falls back
    assert client.get(reverse("products:threshold-report",
                              args=["no-such-product"])).status_code == 404


def test_branch_scope_applies_to_the_page(client, world):
    html = _login(client, world, "lead.south").get(REPORT).content.decode()
    assert '<p class="figure" data-figure="admitted">0</p>' in html


def _csv_rows(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel needs the BOM to read Chinese as UTF-8
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_csv_has_one_row_per_condition_and_the_groups(client, world):
    response = _login(client, world, "admin.north").get(CSV)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "threshold-report-tax-credit-loan-v1-applicants-" in response["Content-Disposition"]
    rows = _csv_rows(response)
    conditions = {row["condition"]: row for row in rows if row["row"] == "condition"}
    assert len(conditions) == world.version.conditions.count()
    assert conditions["tax-rating"]["reason_zh"] == "纳税信用等级为A、B或M级"
    assert conditions["tax-rating"]["excluded_alone"] == "1"
    assert conditions["tax-rating"]["stored_checked"] == "1"
    groups = {row["row"]: row for row in rows if row["row"] != "condition"}
    assert groups["admitted"]["enterprises"] == "1" and groups["excluded"]["enterprises"] == "1"


def test_csv_escapes_cells_a_spreadsheet_would_run_as_formulas(client, world):
    # Under the published version's freeze: a hostile reason as it might be on file.
    EntryCondition.objects.bulk_create([EntryCondition(
        version=world.version, code="employees", position=99, fact="employees",
        operator="gte", value="-1", reason_en="=HYPERLINK(\"http://x\")", reason_zh="@SUM(A1)")])

    rows = _csv_rows(_login(client, world, "admin.north").get(CSV))
    row = next(r for r in rows if r["condition"] == "employees")

    assert row["reason_en"] == "'=HYPERLINK(\"http://x\")"
    assert row["reason_zh"] == "'@SUM(A1)"
    assert row["value"] == "'-1"


def test_loan_outcomes_replace_the_proxy_once_loans_exist(client, world, monkeypatch):
    from apps.products import report as report_module

    monkeypatch.setattr(report_module, "_performance_sources",
                        [lambda ids: {i: {"loans": 2, "bad": 1} for i in ids}])
    html = _login(client, world, "lead.north").get(REPORT).content.decode()
    assert "Non-performing rate of the admitted" in html
    assert 'data-col="alone-performance"' in html and 'data-col="alone-strong"' not in html
