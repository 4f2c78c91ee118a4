"""The re-verification API: my list, one, record the outcome (assignee only, once, notes for
discrepancies, Idempotency-Key, audit), branch scope and the per-officer outcomes."""

import pytest

from apps.audit.models import AuditEvent
from apps.investigations.states import ReVerificationState
from apps.investigations.tests.api.conftest import assert_error
from apps.investigations.tests.reverification_fixtures import sampled

pytestmark = pytest.mark.django_db
__all__ = ["sampled"]

LIST = "/api/v1/reverifications/"


def _url(sampled, tail=""):
    return f"{LIST}{sampled.pk}/{tail}"


def test_team_lead_lists_and_reads_their_reverifications(world, api_as, sampled):
    lead = api_as("lead.north")
    body = lead.get(LIST).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["id"], row["state"], row["application_reference"], row["enterprise_name"]) == (
        sampled.pk, "open", sampled.investigation.application.reference,
        sampled.investigation.application.enterprise.name)
    assert row["lead_officer"]["id"] == world.user("am.north").pk
    assert row["investigation_accepted_at"].startswith("2026-03-14T10:30")
    assert lead.get(LIST, {"state": "done"}).json()["count"] == 0
    assert_error(lead.get(LIST, {"state": "nope"}), 400)
    assert lead.get(_url(sampled)).json()["assigned_to"]["id"] == world.user("lead.north").pk
    # a reader of the branch opens it but has none of their own; others do not see it
    assert api_as("reviewer.north").get(_url(sampled)).status_code == 200
    assert api_as("reviewer.north").get(LIST).json()["count"] == 0
    for name in ("am.north", "assistant.north", "lead.south", "reviewer.south"):
        assert_error(api_as(name).get(_url(sampled)), 404)


def test_recording_the_outcome(world, api_as, sampled):
    lead = api_as("lead.north")
    refused = assert_error(lead.post(_url(sampled, "complete/"),
                                     {"method": "callback", "outcome": "discrepancies"},
                                     format="json"), 400)
    assert "notes" in refused["fields"]
    bad = assert_error(lead.post(_url(sampled, "complete/"),
                                 {"method": "fax", "outcome": "confirmed"}, format="json"), 400)
    assert set(bad["fields"]) == {"method"}
    assert_error(api_as("reviewer.north").post(
        _url(sampled, "complete/"), {"method": "revisit", "outcome": "confirmed"},
        format="json"), 403)
    assert_error(api_as("lead.south").post(
        _url(sampled, "complete/"), {"method": "revisit", "outcome": "confirmed"},
        format="json"), 404)
    sampled.refresh_from_db()
    assert sampled.state == ReVerificationState.OPEN
    assert not AuditEvent.objects.filter(action="reverification.completed").exists()

    payload = {"method": "callback", "outcome": "discrepancies",
               "notes": "The borrower named a different landlord."}
    done = lead.post(_url(sampled, "complete/"), payload, format="json",
                     HTTP_IDEMPOTENCY_KEY="rv-1")
    assert done.status_code == 200, done.json()
    assert (done.json()["state"], done.json()["outcome"], done.json()["method"]) == (
        "done", "discrepancies", "callback")
    replay = lead.post(_url(sampled, "complete/"), payload, format="json",
                       HTTP_IDEMPOTENCY_KEY="rv-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    event = AuditEvent.objects.get(action="reverification.completed")
    assert event.actor_id == world.user("lead.north").pk
    assert event.payload["officers"] == sorted([world.user("am.north").pk,
                                                world.user("assistant.north").pk])
    assert_error(lead.post(_url(sampled, "complete/"), {"method": "revisit",
                                                        "outcome": "confirmed"},
                           format="json"), 409)

    outcomes = {row["officer"]["id"]: row for row in
                lead.get(f"{LIST}officer-outcomes/").json()}
    assert outcomes[world.user("assistant.north").pk]["discrepancies"] == 1
    assert outcomes[world.user("am.north").pk]["confirmed"] == 0
    assert api_as("lead.south").get(f"{LIST}officer-outcomes/").json() == []
    assert_error(api_as("am.north").get(f"{LIST}officer-outcomes/"), 403)


def test_open_ones_come_first_and_the_service_wants_a_method(world, api_as, sampled):
    from decimal import Decimal

    from django.core.exceptions import ValidationError

    from apps.applications import services as app_services
    from apps.applications.states import ApplicationState
    from apps.investigations import workflow
    from apps.investigations.controls.reverification import reverification_complete
    from apps.investigations.models import ReVerification

    lead = world.user("lead.north")
    with pytest.raises(ValidationError) as refused:
        reverification_complete(reverification_id=sampled.pk, actor=lead, outcome="confirmed",
                                notes="", method="")
    assert set(refused.value.message_dict) == {"method"}
    application = world.in_state(ApplicationState.SUBMITTED)
    app_services.application_start_investigation(application_id=application.pk,
                                                 actor=world.user("am.north"))
    later = workflow.investigation_assign(
        application_id=application.pk, lead_officer=world.user("am.north"),
        assisting_officer=world.user("assistant.north"), actor=lead)
    newer = ReVerification.objects.create(investigation=later, assigned_to=lead,
                                          sample_rate=Decimal("0.05"), draw=Decimal("0.02"))
    reverification_complete(reverification_id=newer.pk, actor=lead, outcome="confirmed",
                            notes="", method="revisit")
    # the older open one before the newer done one (not simply newest first)
    rows = api_as("lead.north").get(LIST).json()["results"]
    assert [(r["id"], r["state"]) for r in rows] == [(sampled.pk, "open"), (newer.pk, "done")]
