import pytest

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_from_draft_to_disbursed_through_the_api_alone(world, api_as):
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
        (am, "send-to-review", {}, "under_review"),
        (reviewer, "return", {"comment": "Add 12 months of statements."}, "returned"),
        (am, "resume-investigation", {}, "investigating"),
        (am, "send-to-review", {"comment": "Statements added."}, "under_review"),
        (reviewer, "send-to-approval", {"comment": "Recommend."}, "in_approval"),
        (approver, "approve", {"reason": "Sound cash flow.", "amount": "450000.00"},
         "approved"),
        (postloan, "contract", {}, "contracted"),
        (postloan, "disburse", {}, "disbursed"),
    ]
    for step, (client, action, body, state) in enumerate(steps):
        assert action in client.get(url).json()["actions"], action
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
        "application.sent_to_review", "application.sent_to_approval", "application.approved",
        "application.contracted", "application.disbursed"]
