"""The portrait's relations graph and parsed series: the recorded edges, the latest months of
each finished check, and two queries whatever the number of edges or documents."""

import itertools

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.applications.models import Application
from apps.documents.models import Document, DocumentCheck, DocumentType
from apps.insight.portrait_extras import portrait_extras
from apps.parties.models import Relationship
from apps.parties.tests.factories import EnterpriseFactory, PersonFactory

_n = itertools.count(1)


def _statement(application, kind, monthly, user):
    n = next(_n)
    document = Document.objects.create(
        application=application, document_type=DocumentType.objects.order_by("id").first(),
        storage_name=f"insight/{n}", content_type="text/csv", size=1, sha256=f"{n:064d}",
        stored_sha256=f"{n:064d}", uploaded_by=user)
    return DocumentCheck.objects.create(document=document, kind=kind, status="passed",
                                        findings={"monthly": monthly})


def test_relations_and_series(world, client):
    from apps.documents.seed import seed_documents

    seed_documents()
    firm = EnterpriseFactory(branch=world.north, name="北辰")
    owner = PersonFactory(name="张三")
    Relationship.objects.create(kind="actual_controller", from_person=owner, to_enterprise=firm)
    Relationship.objects.create(kind="guarantor", from_enterprise=EnterpriseFactory(
        branch=world.north, name="担保公司"), to_enterprise=firm)
    Relationship.objects.create(kind="shareholder", from_enterprise=firm,
                                to_enterprise=EnterpriseFactory(branch=world.north, name="子公司"),
                                stake_percent=30)
    manager = world.user("am.north")
    application = Application.objects.create(
        reference=f"PX{next(_n):06d}", enterprise=firm, product_version=world.version,
        branch=world.north, account_manager=manager, created_by=manager, state="submitted",
        amount_requested=1000)
    _statement(application, "tax_record", {"2026-01": {"revenue": "100", "tax_paid": "3"},
                                           "2026-02": {"revenue": "120", "tax_paid": "4"}},
               manager)
    _statement(application, "tax_record", {"2026-02": {"revenue": "125", "tax_paid": "4"}},
               manager)  # a later check of the same month wins
    _statement(application, "bank_statement", {"2026-02": {"in": "900", "out": "800"}}, manager)

    with CaptureQueriesContext(connection) as queries:
        extras = portrait_extras(enterprise=firm, application_ids=[application.pk])
    assert len(queries) == 2
    edges = {(r["from"], r["to"]): r for r in extras["relations"].rows}
    assert set(edges) == {("张三", "北辰"), ("担保公司", "北辰"), ("北辰", "子公司")}
    assert edges[("北辰", "子公司")]["stake"] == "30.00%"
    payload = extras["relations"].payload()
    assert payload["kind"] == "graph" and len(payload["nodes"]) == 4
    assert [n["name"] for n in payload["nodes"] if n["centre"]] == ["北辰"]
    series = {c.key: c for c in extras["series"]}
    assert [(r["label"], str(r["revenue"])) for r in series["series_tax_record"].rows] == [
        ("2026-01", "100"), ("2026-02", "125")]
    assert series["series_bank_statement"].rows[0]["in"] == 900
    assert series["series_utility_bill"].rows == []

    client.force_login(world.user("lead.north"))
    page = client.get(reverse("insight:enterprise", args=[firm.pk])).content.decode()
    assert "section-relations" in page and "section-series_tax_record" in page
    assert "section-series_utility_bill" not in page
    export = client.get(reverse("insight:enterprise-export",
                                args=[firm.pk, "relations", "csv"]))
    assert "担保公司" in export.content.decode("utf-8-sig")
