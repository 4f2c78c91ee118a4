"""The enterprise portrait: exposure, scores with reasons in words, red flags, signals and
actions, documents and expiry; scoped per object; a constant number of queries."""

import io
import itertools
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.applications.models import Application
from apps.insight.portrait import enterprise_portrait
from apps.insight.tests.helpers import score
from apps.investigations.models import Investigation
from apps.investigations.seed import seed_builtin_templates
from apps.monitoring.services.signals import signal_raise
from apps.parties.tests.factories import EnterpriseFactory

TODAY = timezone.localdate()


_serial = itertools.count(1)


def _file(world, enterprise, *, state, requested, approved=None):
    n = next(_serial)
    manager = world.user("am.north")
    return Application.objects.create(
        reference=f"PT{n:06d}", enterprise=enterprise, product_version=world.version,
        branch=enterprise.branch, account_manager=manager, created_by=manager, state=state,
        amount_requested=Decimal(requested),
        amount_approved=Decimal(approved) if approved else None, term_months=12)


@pytest.fixture
def firm(world):
    """北辰: one loan of 100,000 (drawn; 30 days late, one open signal), one approved file of
    40,000 not yet drawn, one file of 25,000 under review, a rejected file of 999 (no
    exposure). Scored B 580 then A 640; a red flag from the investigation."""
    enterprise = EnterpriseFactory(branch=world.north, name="北辰", size_class="small")
    loan = world.loan(enterprise=enterprise, outstanding="100000", dpd=30)
    Application.objects.filter(pk=loan.application_id).update(state="disbursed")
    _file(world, enterprise, state="approved", requested="50000", approved="40000")
    _file(world, enterprise, state="under_review", requested="25000")
    _file(world, enterprise, state="rejected", requested="999")
    score(loan.application, grade="B", value=580)
    score(loan.application, grade="A", value=640,
          reasons=[{"feature": "debt_to_assets", "attribute": "0.82"}])
    Investigation.objects.create(
        application=loan.application, template=seed_builtin_templates()[0],
        lead_officer=world.user("am.north"), assisting_officer=world.user("lead.north"),
        state="accepted",
        red_flags=[{"kind": "red_flag", "code": "RF1", "severity": "high",
                    "message_en": "Utility bills stopped in March",
                    "message_zh": "三月起水电费中断"}])
    signal_raise(loan_id=loan.pk, code="W18", observed="Owner refused the visit",
                 source="inspection")
    return enterprise, loan


def test_portrait_figures(world, firm):
    enterprise, loan = firm
    portrait = enterprise_portrait(viewer=world.user("lead.north"), enterprise_id=enterprise.pk)
    assert portrait["exposure"] == {"outstanding": Decimal("100000"),
                                    "approved": Decimal("40000"), "pipeline": Decimal("25000")}
    charts = {c.key: c for c in portrait["charts"]}
    assert "165,000.00" in charts["exposure"].summary
    scores = charts["scores"].rows
    assert [(r["grade"], r["score"]) for r in scores] == [("B", 580), ("A", 640)]
    assert "0.82" in scores[1]["reasons"] and "debt_to_assets" not in scores[1]["reasons"]
    assert "Latest grade A, score 640" in charts["scores"].summary
    assert [f["message"] for f in portrait["red_flags"]] == ["Utility bills stopped in March"]
    assert len(portrait["signals"]) == 1 and portrait["signals"][0].loan_id == loan.pk
    assert len(portrait["applications"]) == 4 and [x.pk for x in portrait["loans"]] == [loan.pk]


def test_portrait_page_in_both_languages(world, firm, client):
    enterprise, _loan = firm
    client.force_login(world.user("lead.north"))
    url = reverse("insight:enterprise", args=[enterprise.pk])
    body = client.get(url).content.decode()
    assert "Portrait of 北辰" in body and "Utility bills stopped in March" in body
    assert "30 days past due" in body and 'data-chart="chart-data-scores"' in body
    detail = client.get(reverse("parties:enterprise-detail", args=[enterprise.pk]))
    assert url in detail.content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "三月起水电费中断" in client.get(url).content.decode()
    export = reverse("insight:enterprise-export", args=[enterprise.pk, "scores", "xlsx"])
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(export).content)).active
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["B", "A"]


def test_portrait_is_scoped(world, firm, client):
    enterprise, _loan = firm
    client.force_login(world.user("lead.south"))
    assert client.get(reverse("insight:enterprise", args=[enterprise.pk])).status_code == 404
    assert client.get(reverse("insight:enterprise-export",
                              args=[enterprise.pk, "exposure", "csv"])).status_code == 404
    client.force_login(world.user("reviewer.north"))
    assert client.get(reverse("insight:enterprise", args=[enterprise.pk])).status_code == 200


def test_portrait_queries_do_not_grow_with_history(world, firm, django_assert_num_queries):
    enterprise, _loan = firm

    def count():
        viewer = world.user("lead.north")  # fresh: roles are read once per request
        with CaptureQueriesContext(connection) as queries:
            enterprise_portrait(viewer=viewer, enterprise_id=enterprise.pk)
        return len(queries)

    baseline = count()
    # The viewer's roles and branches, the enterprise, the outside sources, and the nine reads
    # of the page sent in one round trip on PostgreSQL (one by one elsewhere).
    assert baseline <= (9 if connection.vendor == "postgresql" else 17)
    for _ in range(3):
        loan = world.loan(enterprise=enterprise, outstanding="1000", dpd=40)
        score(loan.application, grade="C")
        _file(world, enterprise, state="submitted", requested="10")
    viewer = world.user("lead.north")
    with django_assert_num_queries(baseline):
        portrait = enterprise_portrait(viewer=viewer, enterprise_id=enterprise.pk)
    assert len(portrait["loans"]) == 4
    assert portrait["exposure"]["pipeline"] == Decimal("25030")
