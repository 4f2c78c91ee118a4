"""The approvals API: errors as {code, detail, fields}, Idempotency-Key on commands, 404 for
what the caller may not see, a wrong password 403 and audited."""

import pytest

from apps.applications.states import ApplicationState as S
from apps.approvals.seed import BRANCH_COMMITTEE
from apps.approvals.tests.factories import PASSWORD, approvals_ready, in_approval, under_review
from apps.audit.models import AuditEvent


def test_review_send_via_api(world, api_as):
    approvals_ready([{"kind": "individual", "level": 1, "label": "Approver",
                      "deadline_hours": 24, "remind_after_hours": 12}])
    application = under_review(world)
    api = api_as("reviewer.north")
    url = f"/api/v1/approvals/applications/{application.pk}/review/"
    bad = api.post(url, {"risks": "", "conditions": ["x"]}, format="json")
    assert bad.status_code == 400 and "risks" in bad.json()["fields"]
    body = {"risks": "Concentration.", "conditions": ["Guarantee signed"],
            "exceptions": [{"rule": "Tax rating", "reason": "Rating appeal pending."}]}
    response = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert response.status_code == 200, response.json()
    route = response.json()
    assert route["policy_exception"] is True and route["steps"][0]["kind"] == "committee"
    replay = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"


def test_sign_via_api(world, api_as):
    application, route = in_approval(world)
    step = route.steps.get()
    api = api_as("approver.north")
    url = f"/api/v1/approvals/steps/{step.pk}/sign/"
    wrong = api.post(url, {"decision": "approve", "reason": "ok", "password": "nope"},
                     format="json")
    assert wrong.status_code == 403 and wrong.json()["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="auth.permission_refused",
                                     payload__reason__icontains="password").exists()
    response = api.post(url, {"decision": "approve", "reason": "Sound.", "password": PASSWORD,
                              "amount": "450000.00"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="s-1")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved"
    assert response.json()["sign_offs"][0]["amount"] == "450000.00"
    again = api_as("approver.hq").post(url, {"decision": "approve", "reason": "x",
                                             "password": PASSWORD}, format="json")
    assert again.status_code in (403, 409)
    application.refresh_from_db()
    assert application.state == S.APPROVED


def test_maker_gets_403_and_other_branch_404(world, api_as):
    application, route = in_approval(world)
    step = route.steps.get()
    body = {"decision": "approve", "reason": "x", "password": PASSWORD}
    url = f"/api/v1/approvals/steps/{step.pk}/sign/"
    assert api_as("am.north").post(url, body, format="json").status_code == 403
    assert api_as("approver.south").post(url, body, format="json").status_code == 404
    assert api_as("approver.south").get(
        f"/api/v1/approvals/applications/{application.pk}/route/").status_code == 404


def test_inbox_api_lists_only_what_waits_for_the_caller(world, api_as):
    application, route = in_approval(world)
    mine = api_as("approver.north").get("/api/v1/approvals/inbox/").json()
    assert [item["reference"] for item in mine["results"]] == [application.reference]
    assert api_as("am.north").get("/api/v1/approvals/inbox/").json()["count"] == 0
    assert api_as("approver.south").get("/api/v1/approvals/inbox/").json()["count"] == 0


def test_votes_and_close_via_api(world, api_as):
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    url = f"/api/v1/approvals/steps/{step.pk}/vote/"
    no_reason = api_as("committee2.north").post(
        url, {"choice": "reject", "password": PASSWORD}, format="json")
    assert no_reason.status_code == 400 and "opinion" in no_reason.json()["fields"]
    for member in ("committee2.north", "committee3.north", "committee4.north"):
        assert api_as(member).post(url, {"choice": "approve", "password": PASSWORD},
                                   format="json").status_code == 200
    application.refresh_from_db()
    assert application.state == S.APPROVED
    closed = api_as("committee.north").post(f"/api/v1/approvals/steps/{step.pk}/close/")
    assert closed.status_code == 409


@pytest.mark.parametrize("username", ["am.north", "postloan.north"])
def test_conditions_via_api(world, api_as, username):
    application, route = in_approval(world, conditions=["Guarantee signed"])
    from apps.approvals.services import step_sign

    step_sign(step_id=route.steps.get().pk, actor=world.user("approver.north"),
              password=PASSWORD, decision="approve", reason="ok")
    condition = route.conditions.get()
    response = api_as(username).post(
        f"/api/v1/approvals/conditions/{condition.pk}/satisfy/",
        {"note": "Signed original on file."}, format="json")
    assert response.status_code == (200 if username == "postloan.north" else 403)


def test_route_of_an_application_without_one_is_json_404(world, api_as):
    application = world.draft()
    response = api_as("am.north").get(f"/api/v1/approvals/applications/{application.pk}/route/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"]
