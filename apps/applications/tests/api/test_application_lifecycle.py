import pytest

from apps.approvals.seed import seed_approvals
from apps.audit.models import AuditEvent
from apps.demo.seed import DEMO_PASSWORD
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.tests.api.conftest import fill_required

pytestmark = pytest.mark.django_db


def _investigate(world, api_as, app_id: int) -> None:
    """The pre-lending investigation through its API: the team lead assigns two officers,
    they fill the checklist and check in on site, an independent reviewer accepts."""
    lead, am, reviewer = api_as("lead.north"), api_as("am.north"), api_as("reviewer.north")
    assigned = lead.post(f"/api/v1/applications/{app_id}/investigation/", {
        "lead_officer_id": world.user("am.north").pk,
        "assisting_officer_id": world.user("assistant.north").pk}, format="json")
    assert assigned.status_code == 201, assigned.json()
    url = f"/api/v1/investigations/{assigned.json()['id']}/"
    assert am.post(f"{url}start/").status_code == 200
    fill_required(am, assigned.json()["id"])
    for officer in (am, api_as("assistant.north")):
        assert officer.post(f"{url}check-in/", {"lat": "31.2304", "lng": "121.4737"},
                            format="json").status_code == 200
    assert am.post(f"{url}submit/").json()["state"] == "submitted"
    assert reviewer.post(f"{url}accept/", {"comment": "Site visit and figures agree."},
                         format="json").json()["state"] == "accepted"


def _approval_step(client, app_id: int, action: str, body: dict, state: str) -> None:
    if action == "review":
        response = client.post(f"/api/v1/approvals/applications/{app_id}/review/", body,
                               format="json")
    else:
        route = client.get(f"/api/v1/approvals/applications/{app_id}/route/").json()
        step_id = next(s["id"] for s in route["steps"] if s["state"] == "waiting")
        response = client.post(f"/api/v1/approvals/steps/{step_id}/sign/", body, format="json")
    assert response.status_code == 200, (action, response.json())
    assert client.get(f"/api/v1/applications/{app_id}/").json()["state"] == state


def _resubmit(api_as, app_id: int) -> None:
    am, reviewer = api_as("am.north"), api_as("reviewer.north")
    investigation = am.get(f"/api/v1/applications/{app_id}/investigation/").json()
    assert investigation["state"] == "returned"
    url = f"/api/v1/investigations/{investigation['id']}/"
    assert am.post(f"{url}submit/").json()["state"] == "submitted"
    assert reviewer.post(f"{url}accept/", format="json").json()["state"] == "accepted"


def test_from_draft_to_disbursed_through_the_api_alone(world, api_as):
    seed_builtin_templates()
    seed_approvals()
    am, reviewer = api_as("am.north"), api_as("reviewer.north")
    approver, postloan = api_as("approver.north"), api_as("postloan.north")
    enterprise = world.enterprise()

    eligibility = am.get(f"/api/v1/enterprises/{enterprise.pk}/eligibility/").json()
    version_id = next(r["product_version_id"] for r in eligibility
                      if r["product"] == "tax-credit-loan" and r["eligible"])
    created = am.post("/api/v1/applications/", {
        "enterprise_id": enterprise.pk, "product_version_id": version_id,
        "amount_requested": "500000.00", "term_months": 12}, format="json")
    assert created.status_code == 201, created.json()
    app_id = created.json()["id"]
    url = f"/api/v1/applications/{app_id}/"
    assert am.patch(url, {"purpose": "Spring stock", "repayment_method": "equal_instalment",
                          "collateral_type": "none"}, format="json").status_code == 200

    steps = [
        (am, "submit", {}, "submitted"),
        (am, "start-investigation", {}, "investigating"),
        # Blocked until the investigation is accepted (the send_to_review guard).
        (am, "send-to-review", {}, "under_review"),
        (reviewer, "return", {"comment": "Add 12 months of statements."}, "returned"),
        (am, "resume-investigation", {}, "investigating"),
        (am, "send-to-review", {"comment": "Statements added."}, "under_review"),
        # Into and out of approval through the approvals API (opinion, signed route).
        (reviewer, "review", {"risks": "One large buyer."}, "in_approval"),
        (approver, "sign", {"decision": "approve", "reason": "Sound cash flow.",
                            "amount": "450000.00", "password": DEMO_PASSWORD}, "approved"),
        (postloan, "contract", {}, "contracted"),
        (postloan, "disburse", {}, "disbursed"),
    ]
    for step, (client, action, body, state) in enumerate(steps):
        if action in ("review", "sign"):
            _approval_step(client, app_id, action, body, state)
            continue
        assert action in client.get(url).json()["actions"], action
        if step == 2:
            blocked = client.post(f"{url}{action}/", body, format="json")
            assert blocked.status_code == 409, blocked.json()
            assert "No investigation has been assigned yet." in str(blocked.json())
            _investigate(world, api_as, app_id)
        if step == 5:
            # The return for rework reopened the investigation: corrected, resubmitted and
            # accepted again before the file may go back to review.
            _resubmit(api_as, app_id)
        response = client.post(f"{url}{action}/", body, format="json",
                               HTTP_IDEMPOTENCY_KEY=f"{app_id}-{step}")
        assert response.status_code == 200, (action, response.json())
        assert response.json()["state"] == state

    final = am.get(url).json()
    assert (final["state"], final["amount_requested"], final["amount_approved"]) == (
        "disbursed", "500000.00", "450000.00")
    assert final["actions"] == []
    assert final["eligibility"]["eligible"] is True
    assert list(AuditEvent.objects.filter(subject_id=str(app_id),
                                          subject_type="applications.application")
                .order_by("seq").values_list("action", flat=True)) == [
        "application.created", "application.updated", "application.submitted",
        "application.investigation_started", "application.sent_to_review",
        "application.returned", "application.investigation_resumed",
        "application.sent_to_review", "review.opinion_recorded",
        "application.sent_to_approval", "application.approved",
        "application.contracted", "application.disbursed"]
