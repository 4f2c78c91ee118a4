"""Pulled values beside the officer's answers, a disagreement as a cross-check finding, the
pulled figures in the cross-checks and the scoring features, and the portrait's lines."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.applications.tests.factories import World
from apps.datahub import services
from apps.datahub.facts import ITEM_FACTS, mismatch_findings, pulled_item_values, source_facts
from apps.datahub.tests.conftest import consent_for
from apps.investigations.evidence import figures_for, figures_with_provenance
from apps.investigations.models import Investigation
from apps.investigations.policy import PolicyResolver

pytestmark = pytest.mark.django_db


@pytest.fixture
def pulled(hub):
    world = World()
    manager = world.user("am.north")
    application = world.draft()
    enterprise = application.enterprise
    consent_for(enterprise, manager, sources=["registry", "court", "tax", "utility", "bureau"])
    hub.tax.rating = "C"
    hub.bureau.add_loan(enterprise.uscc, "OTHER-1", status="overdue", dpd=45)
    hub.court.add_dishonest(enterprise.uscc, "(2025)浙01执88号")
    pulls = {}
    for source in ("registry", "court", "tax", "utility", "bureau"):
        pull = services.pull_request(enterprise_id=enterprise.pk, source=source,
                                     purpose="pre_loan", actor=manager,
                                     application_id=application.pk)
        assert services.pull_run(pull_id=pull.pk) == "succeeded", source
        pulls[source] = pull
    return world, manager, application, pulls


def test_pulled_figures_feed_the_cross_checks_and_the_scoring_features(pulled):
    _world, _manager, application, pulls = pulled
    figures, provenance = figures_with_provenance(application.pk)
    assert figures["tax.revenue_12m"] == Decimal("3000000.00")      # 12 × 250,000
    assert figures["tax.paid_12m"] == Decimal("90000.00")
    assert figures["utility.kwh_12m"] == Decimal("144000.0")
    assert provenance["tax.revenue_12m"]["query_id"] == str(pulls["tax"].query_id)
    assert figures_for(application.pk)["bank.inflows_12m"] is None  # documents' keys untouched
    from apps.scoring.features.assemble import application_features

    record = application_features(application.pk)
    assert record.sources["figures_pulled"]["utility.kwh_12m"]["source"] == "utility"


def test_pulled_values_stand_beside_the_answers_and_a_disagreement_is_a_finding(pulled):
    world, manager, application, pulls = pulled
    values = pulled_item_values(application.pk)
    assert set(values) == set(ITEM_FACTS)
    assert values["B9_TAX_GRADE"].value == "C" and values["B1_OVERDUE"].value is True
    assert values["CH_CREDIT_HISTORY"].value == "current_overdue"
    assert values["B7_DISHONEST"].value is True
    assert str(pulls["bureau"].query_id) in values["B1_OVERDUE"].provenance_text

    from apps.demo.lifecycle import walk_to_state
    from apps.investigations.models import Answer, Item

    # The demo walk runs the investigation to acceptance; the officer's answers to the items
    # the sources also answer are then set to disagree with them.
    walk_to_state(application, "investigating", branch_code="north")
    investigation = Investigation.objects.get(application=application)
    answered = {"B9_TAX_GRADE": "A", "B1_OVERDUE": False, "CH_CREDIT_HISTORY": "clean",
                "B7_DISHONEST": False}
    items = {i.code: i for i in Item.objects.filter(template_id=investigation.template_id,
                                                    code__in=list(answered))}
    mine = {code: value for code, value in answered.items() if code in items}
    assert mine, "the default template asks none of the items the sources answer"
    for code, value in mine.items():
        Answer.objects.update_or_create(investigation=investigation, item=items[code],
                                        defaults={"value": value, "answered_by": manager})
    findings = mismatch_findings(application.pk, policy=PolicyResolver())
    assert sorted(f.item for f in findings) == sorted(mine)
    finding = findings[0]
    assert finding.code == "DATAHUB_MISMATCH" and finding.severity == "R2"
    assert finding.inputs["provenance"]["source"] in {"tax", "bureau", "court"}

    client = Client()
    client.force_login(manager)
    section = items[next(iter(mine))].section.code
    page = client.get(reverse("investigations:form", args=[investigation.pk])
                      + "?section=" + section)
    assert page.status_code == 200 and "Outside data says" in page.content.decode()
    client.force_login(world.user("reviewer.north"))
    review = client.get(reverse("investigations:review", args=[investigation.pk]))
    assert review.status_code == 200 and "Outside data says" in review.content.decode()


def test_an_agreeing_answer_is_no_finding(pulled):
    _world, manager, application, _pulls = pulled
    assert mismatch_findings(application.pk, policy=PolicyResolver()) == []  # nothing answered


def test_the_portrait_lines_say_what_each_source_said(pulled):
    world, _manager, application, pulls = pulled
    lines = {line["pull_id"]: line for line in source_facts(application.enterprise_id)}
    assert set(lines) == {p.pk for p in pulls.values()}
    assert "1 dishonest-debtor listings" in lines[pulls["court"].pk]["text"]
    assert "Tax credit grade C" in lines[pulls["tax"].pk]["text"]
    assert "1 overdue" in lines[pulls["bureau"].pk]["text"]
    assert str(pulls["registry"].query_id) in lines[pulls["registry"].pk]["provenance"]
    client = Client()
    client.force_login(world.user("lead.north"))
    page = client.get(reverse("insight:enterprise", args=[application.enterprise_id]))
    body = page.content.decode()
    assert page.status_code == 200 and "Tax credit grade C" in body
    # The portrait reads the newest pulls with its other reads (one round trip on
    # PostgreSQL): the same lines as read here on their own.
    from apps.insight.portrait import enterprise_portrait

    portrait = enterprise_portrait(viewer=world.user("lead.north"),
                                   enterprise_id=application.enterprise_id)
    assert portrait["external"] == source_facts(application.enterprise_id)
    assert len(portrait["external"]) == len(pulls)
