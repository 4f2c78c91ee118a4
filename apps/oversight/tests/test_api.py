import pytest

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_auditor_pages_through_events_and_others_are_refused(world, api_as):
    application = world.draft()
    url = "/api/v1/oversight/events/"
    assert api_as("am.north").get(url).status_code == 403
    response = api_as("auditor.north").get(url, {"application": application.reference})
    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["action"] for e in events] == ["application.created"]
    assert events[0]["hash"] == AuditEvent.objects.get(seq=events[0]["seq"]).hash
    everything = api_as("admin.north").get(url, {"size": 2}).json()
    assert len(everything["results"]) == 2 and everything["next_before"]
    older = api_as("admin.north").get(url, {"size": 2, "before": everything["next_before"]})
    assert older.json()["results"][0]["seq"] < everything["results"][-1]["seq"]


def test_bad_filters_name_their_fields(world, api_as):
    response = api_as("auditor.north").get("/api/v1/oversight/events/",
                                           {"user": "ghost", "date_from": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"user", "date_from"}
