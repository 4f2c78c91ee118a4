"""End to end: a court hit pulled for the enterprise is a cross-check finding of its
investigation, with provenance; a clean answer adds none."""

import pytest

from apps.applications.tests.factories import World
from apps.datahub import services
from apps.datahub.tests.conftest import consent_for
from apps.investigations.models import Investigation

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(hub):
    return World()


def test_a_court_hit_is_an_investigation_finding_with_its_provenance(hub, world):
    manager = world.user("am.north")
    application = world.draft()
    enterprise = application.enterprise
    consent_for(enterprise, manager)
    hub.court.add_dishonest(enterprise.uscc, "(2025)浙01执456号")
    hub.court.add_enforcement(enterprise.uscc, "(2025)浙0106执123号", status="open")
    hub.court.add_enforcement(enterprise.uscc, "(2024)浙0106执9号", status="closed")
    pull = services.pull_request(enterprise_id=enterprise.pk, source="court",
                                 purpose="pre_loan", actor=manager,
                                 application_id=application.pk)
    services.pull_run(pull_id=pull.pk)

    from apps.demo.lifecycle import walk_to_state

    walk_to_state(application, "investigating", branch_code="north")
    findings = Investigation.objects.get(application=application).cross_check_findings
    court = {f["code"]: f for f in findings if f["code"].startswith("COURT_")}
    assert set(court) == {"COURT_DISHONEST", "COURT_ENFORCEMENT"}   # the closed case is not
    dishonest = court["COURT_DISHONEST"]
    assert dishonest["severity"] == "R3" and "(2025)浙01执456号" in dishonest["message_en"]
    assert "失信" not in dishonest["message_en"]
    provenance = dishonest["inputs"]["provenance"]
    assert provenance["source"] == "court" and provenance["query_id"] == str(pull.query_id)
    assert provenance["format_version"] == "court/2" and provenance["pull_id"] == pull.pk
    assert court["COURT_ENFORCEMENT"]["severity"] == "R2"


def test_a_cache_answer_points_the_finding_at_the_paid_query(hub, world):
    from apps.datahub.findings import court_findings
    from apps.investigations.policy import PolicyResolver

    manager = world.user("am.north")
    application = world.draft()
    consent_for(application.enterprise, manager)
    hub.court.add_dishonest(application.enterprise.uscc, "(2025)浙01执7号")
    paid = services.pull_request(enterprise_id=application.enterprise_id, source="court",
                                 purpose="pre_loan", actor=manager)
    services.pull_run(pull_id=paid.pk)
    cached = services.pull_request(enterprise_id=application.enterprise_id, source="court",
                                   purpose="pre_loan", actor=manager)
    [finding] = court_findings(application.pk, policy=PolicyResolver())
    assert finding.inputs["provenance"]["pull_id"] == paid.pk
    assert finding.inputs["provenance"]["answered_by_pull"] == cached.pk


def test_no_pull_or_a_clean_answer_adds_no_finding(hub, world):
    from apps.investigations.evidence import external_findings
    from apps.investigations.policy import PolicyResolver

    manager = world.user("am.north")
    application = world.draft()
    assert external_findings(application.pk, policy=PolicyResolver()) == []
    consent_for(application.enterprise, manager)
    pull = services.pull_request(enterprise_id=application.enterprise_id, source="court",
                                 purpose="pre_loan", actor=manager)
    services.pull_run(pull_id=pull.pk)
    assert external_findings(application.pk, policy=PolicyResolver()) == []
