"""The investigation API: assignment, the form's reads and autosave, check-in, submission,
review; permissions (only the two officers edit, reviewer independence, branch scope)."""

import pytest

from apps.audit.models import AuditEvent
from apps.investigations.models import Answer, Investigation
from apps.investigations.states import InvestigationState
from apps.investigations.tests.api.conftest import assert_error, fill_required

pytestmark = pytest.mark.django_db


def _url(investigation, tail=""):
    return f"/api/v1/investigations/{investigation.pk}/{tail}"


def _answer_url(investigation, code):
    return _url(investigation, f"answers/{code}/")


def _check_in_both(api_as, investigation):
    for name in ("am.north", "assistant.north"):
        response = api_as(name).post(_url(investigation, "check-in/"),
                                     {"lat": "31.2304", "lng": "121.4737", "accuracy_m": "8"},
                                     format="json")
        assert response.status_code == 200, response.json()


# --- assign ----------------------------------------------------------------------------------

def test_team_lead_assigns_two_distinct_officers(world, api_as, investigating):
    url = f"/api/v1/applications/{investigating.pk}/investigation/"
    lead = api_as("lead.north")
    am, assistant = world.user("am.north"), world.user("assistant.north")

    same = lead.post(url, {"lead_officer_id": am.pk, "assisting_officer_id": am.pk},
                     format="json")
    assert "assisting_officer" in assert_error(same, 400, "invalid")["fields"]
    south = lead.post(url, {"lead_officer_id": am.pk,
                            "assisting_officer_id": world.user("am.south").pk}, format="json")
    assert assert_error(south, 400)["fields"] == {"assisting_officer_id": ["Not found."]}
    assert_error(api_as("reviewer.north").post(
        url, {"lead_officer_id": am.pk, "assisting_officer_id": assistant.pk},
        format="json"), 403)
    assert_error(api_as("lead.south").post(
        url, {"lead_officer_id": am.pk, "assisting_officer_id": assistant.pk},
        format="json"), 404)
    assert_error(lead.get(url), 404)  # none yet

    created = lead.post(url, {"lead_officer_id": am.pk, "assisting_officer_id": assistant.pk},
                        format="json", HTTP_IDEMPOTENCY_KEY="assign-1")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["lead_officer"]["id"], body["assisting_officer"]["id"]) == (
        "assigned", am.pk, assistant.pk)
    replay = lead.post(url, {"lead_officer_id": am.pk, "assisting_officer_id": assistant.pk},
                       format="json", HTTP_IDEMPOTENCY_KEY="assign-1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert Investigation.objects.filter(application=investigating).count() == 1
    again = lead.post(url, {"lead_officer_id": am.pk, "assisting_officer_id": assistant.pk},
                      format="json")
    assert_error(again, 409, "transition_not_allowed")
    assert lead.get(url).json()["id"] == body["id"]


# --- start, read -----------------------------------------------------------------------------

def test_only_an_officer_starts_and_other_branches_see_nothing(api_as, assigned):
    assert_error(api_as("reviewer.north").post(_url(assigned, "start/")), 403)
    assert_error(api_as("am.south").post(_url(assigned, "start/")), 404)
    assert_error(api_as("am.south").get(_url(assigned)), 404)
    assert_error(api_as("reviewer.south").get(_url(assigned)), 404)
    assistant = api_as("assistant.north")
    assert "start" in assistant.get(_url(assigned)).json()["actions"]
    started = assistant.post(_url(assigned, "start/"))
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    assert_error(assistant.post(_url(assigned, "start/")), 409, "transition_not_allowed")


def test_assisting_officer_sees_the_investigation_of_a_file_they_do_not_manage(api_as,
                                                                                assigned):
    mine = api_as("assistant.north").get("/api/v1/investigations/?mine=true").json()
    assert [row["id"] for row in mine["results"]] == [assigned.pk]
    assert api_as("am.south").get("/api/v1/investigations/").json()["count"] == 0


def test_detail_has_template_in_request_language_progress_and_missing(api_as, started):
    client = api_as("am.north")
    body = client.get(_url(started)).json()
    assert body["template"] == "three-products-three-tables v1"
    section_b = next(s for s in body["sections"] if s["code"] == "B")
    assert (section_b["answered"], section_b["required"]) == (0, 11)
    b1 = next(i for i in section_b["items"] if i["code"] == "B1_OVERDUE")
    assert b1["answer"] is None and b1["answer_type"] == "yes_no"
    assert "B1_OVERDUE: not answered." in body["missing"]
    assert "The lead officer has not checked in at the site." in body["missing"]
    assert set(body["actions"]) == {"answer", "check-in", "submit"}

    zh = client.get(_url(started), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    zh_b1 = next(i for s in zh["sections"] for i in s["items"] if i["code"] == "B1_OVERDUE")
    assert zh_b1["label"] != b1["label"] and any("\u4e00" <= ch <= "\u9fff"
                                                 for ch in zh_b1["label"])


# --- answers ---------------------------------------------------------------------------------

def test_answer_save_retry_is_idempotent_and_a_stale_save_is_a_conflict(api_as, started):
    am, assistant = api_as("am.north"), api_as("assistant.north")
    url = _answer_url(started, "D2_ANNUAL_SALES")
    first = am.put(url, {"value": "1200000", "expected_version": None}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["answer"]["version"] == 1
    # The connection dropped and the phone sends the same save again: nothing changes.
    retry = am.put(url, {"value": "1200000", "expected_version": None}, format="json")
    assert retry.status_code == 200 and retry.json()["answer"]["version"] == 1
    assert AuditEvent.objects.filter(action="investigation.answer_saved").count() == 1

    # The other officer read version 1 and saves; the first, still on version 1, conflicts.
    theirs = assistant.put(url, {"value": "1500000", "expected_version": 1}, format="json")
    assert theirs.json()["answer"]["version"] == 2
    stale = am.put(url, {"value": "1300000", "expected_version": 1}, format="json")
    body = assert_error(stale, 409, "answer_conflict")
    assert body["fields"]["item"] == "D2_ANNUAL_SALES"
    assert (body["fields"]["current"]["value"], body["fields"]["current"]["version"]) == (
        "1500000", 2)
    # Keeping mine: resend naming the version just seen.
    kept = am.put(url, {"value": "1300000", "expected_version": 2}, format="json")
    assert kept.json()["answer"] | {"updated_at": None} == kept.json()["answer"] | {
        "updated_at": None, "value": "1300000", "version": 3}
    assert Answer.objects.get(investigation=started, item__code="D2_ANNUAL_SALES").value == \
        "1300000"


def test_answer_save_with_an_idempotency_key_replays_the_stored_outcome(api_as, started):
    am = api_as("am.north")
    url = _answer_url(started, "B3_INQUIRIES")
    one = am.put(url, {"value": "4"}, format="json", HTTP_IDEMPOTENCY_KEY="k-b3")
    two = am.put(url, {"value": "4"}, format="json", HTTP_IDEMPOTENCY_KEY="k-b3")
    assert two.headers.get("Idempotent-Replayed") == "true" and two.json() == one.json()
    assert_error(am.put(url, {"value": "5"}, format="json", HTTP_IDEMPOTENCY_KEY="k-b3"),
                 422, "idempotency_key_reused")


def test_only_the_two_officers_edit_answers(api_as, started):
    body = {"value": True, "expected_version": None}
    for name in ("lead.north", "reviewer.north", "approver.north"):
        assert_error(api_as(name).put(_answer_url(started, "B1_OVERDUE"), body,
                                      format="json"), 403)
    assert_error(api_as("am.south").put(_answer_url(started, "B1_OVERDUE"), body,
                                        format="json"), 404)
    assert not Answer.objects.filter(investigation=started).exists()


def test_invalid_answers_come_back_keyed_by_field(api_as, started):
    am = api_as("am.north")
    bad = am.put(_answer_url(started, "B10_REPUTATION"), {"value": "ok"}, format="json")
    assert "B10_REPUTATION" in assert_error(bad, 400, "invalid")["fields"]
    table = am.put(_answer_url(started, "D1_BALANCE"),
                   {"value": [{"row": "cash", "amount": "abc"}]}, format="json")
    assert any(key.startswith("D1_BALANCE.") for key in assert_error(table, 400)["fields"])
    na = am.put(_answer_url(started, "B1_OVERDUE"), {"not_applicable": True,
                                                    "na_reason": "n/a"}, format="json")
    assert assert_error(na, 400)["fields"] == {
        "B1_OVERDUE": ["This item cannot be marked not applicable."]}
    no_reason = am.put(_answer_url(started, "C2_LEASE_END"), {"not_applicable": True},
                       format="json")
    assert assert_error(no_reason, 400)["fields"] == {
        "C2_LEASE_END": ["Say why this item is not applicable."]}
    ok = am.put(_answer_url(started, "C2_LEASE_END"),
                {"not_applicable": True, "na_reason": "The premises are owned."},
                format="json")
    assert ok.status_code == 200 and ok.json()["answer"]["not_applicable"] is True
    derived = am.put(_answer_url(started, "D7_LEVERAGE"), {"value": "0.1"}, format="json")
    assert "D7_LEVERAGE" in assert_error(derived, 400)["fields"]
    assert_error(am.put(_answer_url(started, "NOPE"), {"value": "1"}, format="json"), 400)


def test_derived_values_are_recomputed_after_a_save(api_as, started):
    am = api_as("am.north")
    item = next(i for s in am.get(_url(started)).json()["sections"] for i in s["items"]
                if i["code"] == "D1_BALANCE")
    rows = []
    for row in item["rows"]:
        rows.append({"row": row["code"],
                     **{c["code"]: "100" for c in item["columns"] if c["type"] == "money"}})
    saved = am.put(_answer_url(started, "D1_BALANCE"), {"value": rows}, format="json")
    assert saved.status_code == 200, saved.json()
    derived = saved.json()["derived"]
    assert derived["D1_ASSETS"] is not None and "D7_LEVERAGE" in derived
    detail = am.get(_url(started)).json()
    assets = next(i for s in detail["sections"] for i in s["items"] if i["code"] == "D1_ASSETS")
    assert assets["derived_value"] == derived["D1_ASSETS"]
    # An item no derived value reads: nothing to recompute, nothing returned.
    plain = am.put(_answer_url(started, "B3_INQUIRIES"), {"value": "3"}, format="json")
    assert plain.status_code == 200 and plain.json()["derived"] == {}


# --- check-in, submit, review ----------------------------------------------------------------

def test_check_in_validates_the_position(api_as, started):
    assistant = api_as("assistant.north")
    bad = assistant.post(_url(started, "check-in/"), {"lat": "123", "lng": "121"},
                         format="json")
    assert "lat" in assert_error(bad, 400)["fields"]
    assert_error(api_as("reviewer.north").post(_url(started, "check-in/"),
                                               {"lat": "31", "lng": "121"}, format="json"), 403)
    assert_error(assistant.post(_url(started, "check-out/"), {"lat": "31", "lng": "121"},
                                format="json"), 409)  # not checked in yet
    ok = assistant.post(_url(started, "check-in/"), {"lat": "31.2304", "lng": "121.4737"},
                        format="json")
    assert [c["officer"]["name"] for c in ok.json()["check_ins"]] == [
        started.assisting_officer.display_name]
    assert "check-out" in ok.json()["actions"]
    assert "check-out" not in api_as("am.north").get(_url(started)).json()["actions"]
    out = assistant.post(_url(started, "check-out/"), {"lat": "31.2305", "lng": "121.4738"},
                         format="json")
    assert out.status_code == 200 and out.json()["check_ins"][0]["checked_out_at"]
    assert "check-out" not in out.json()["actions"]


def test_submit_refused_with_the_missing_list_then_reviewed(api_as, started):
    am, reviewer = api_as("am.north"), api_as("reviewer.north")
    refused = am.post(_url(started, "submit/"))
    missing = assert_error(refused, 409, "investigation_incomplete")["fields"]["missing"]
    assert "B1_OVERDUE: not answered." in missing and len(missing) > 40
    assert fill_required(am, started.pk) > 40
    _check_in_both(api_as, started)

    submitted = am.post(_url(started, "submit/"), HTTP_IDEMPOTENCY_KEY="sub-1")
    assert submitted.status_code == 200, submitted.json()
    body = submitted.json()
    assert body["state"] == "submitted" and body["missing"] == []
    assert body["cross_checks"] and all(f["explanation"] and f["message"]
                                        for f in body["cross_checks"] + body["red_flags"])

    # Reviewer independence: officers and the file's manager never judge their own work.
    for name in ("am.north", "assistant.north"):
        assert_error(api_as(name).post(_url(started, "accept/")), 403)
    assert_error(api_as("reviewer.south").post(_url(started, "accept/")), 404)
    assert set(reviewer.get(_url(started)).json()["actions"]) == {"accept", "return"}

    returned = reviewer.post(_url(started, "return/"), {"comments": {
        "B10_REPUTATION": "Name the neighbours you spoke to."}}, format="json")
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    officer_view = am.get(_url(started)).json()
    b10 = next(i for s in officer_view["sections"] for i in s["items"]
               if i["code"] == "B10_REPUTATION")
    assert [c["text"] for c in b10["comments"]] == ["Name the neighbours you spoke to."]
    assert_error(reviewer.post(_url(started, "return/"), {"comments": {}}, format="json"), 409)

    b10_version = b10["answer"]["version"]
    fixed = am.put(_answer_url(started, "B10_REPUTATION"), {
        "value": "Spoke to Mr Li (hardware shop next door) and Ms Wang (supplier): both say "
                 "the owner pays on time.", "expected_version": b10_version}, format="json")
    assert fixed.status_code == 200
    assert am.post(_url(started, "submit/")).json()["submission_count"] == 2
    accepted = reviewer.post(_url(started, "accept/"), {"comment": "Consistent."},
                             format="json")
    assert accepted.json()["state"] == InvestigationState.ACCEPTED
    assert accepted.json()["reviewed_by"]["name"] == "Risk reviewer North"
    assert_error(am.put(_answer_url(started, "B10_REPUTATION"), {"value": "x" * 60},
                        format="json"), 409)


def test_return_needs_item_comments(api_as, started):
    am, reviewer = api_as("am.north"), api_as("reviewer.north")
    fill_required(am, started.pk)
    _check_in_both(api_as, started)
    am.post(_url(started, "submit/"))
    assert "comments" in assert_error(reviewer.post(_url(started, "return/"),
                                                    {"comments": {"B1_OVERDUE": " "}},
                                                    format="json"), 400)["fields"]
    assert "NOPE" in assert_error(reviewer.post(_url(started, "return/"),
                                                {"comments": {"NOPE": "fix"}},
                                                format="json"), 400)["fields"]


def test_the_schema_documents_every_investigation_operation(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = {op["operationId"] for path in schema["paths"].values()
                  for op in path.values() if isinstance(op, dict) and "operationId" in op}
    assert {"investigations_list", "investigations_retrieve", "investigations_start",
            "investigations_answer_save", "investigations_check_in", "investigations_check_out",
            "investigations_submit",
            "investigations_accept", "investigations_return",
            "applications_investigation_assign"} <= operations
