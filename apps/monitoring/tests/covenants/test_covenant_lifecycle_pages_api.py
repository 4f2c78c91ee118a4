"""Lifecycle pages and API per role: the officer proposes (errors under the field, in
sentences), the proposer is refused as decider with a sentence, a lead approves, another
branch gets 404, an account manager 403; the API documents and returns 201/400/403/404/409."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from apps.monitoring.covenant_models import Covenant, CovenantChange


def _covenant(scheduled):
    _loan, check, _review = scheduled
    return Covenant.objects.get(pk=check.covenant_id), check


def test_page_propose_errors_and_four_eyes(world, scheduled, login):
    covenant, check = _covenant(scheduled)
    officer, lead = login("postloan.north"), login("lead.north")
    url = reverse("monitoring:covenant", args=[covenant.pk])
    page = officer.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and 'name="effective_from"' in html
    assert 'name="viewport"' in html
    propose = reverse("monitoring:covenant_change_propose", args=[covenant.pk])
    bad = officer.post(propose, {"kind": "waive", "effective_from": "2001-01-01",
                                 "reason": ""})
    html = bad.content.decode()
    assert bad.status_code == 400
    # Each message sits right under its field, as a sentence.
    assert html.index('id="effective-from"') < html.index("cannot start in the past") \
        < html.index('id="waived-until"')
    assert html.index('id="reason"') < html.index("Give the reason for the change.")
    today = timezone.localdate()
    until = check.due_date + dt.timedelta(days=3)
    ok = officer.post(propose, {"kind": "waive", "effective_from": today.isoformat(),
                                "waived_until": until.isoformat(), "reason": "Harvest"})
    assert ok.status_code == 302
    change = CovenantChange.objects.get(covenant=covenant)
    # The officer's page offers no decision; posting one is refused with a sentence.
    html = officer.get(url).content.decode()
    assert "Approve the change" not in html and "Withdraw my proposal" in html
    act = reverse("monitoring:covenant_change_act", args=[change.pk, "approve"])
    refused = officer.post(act, {"note": ""})
    assert refused.status_code == 403 and "different person" in refused.content.decode()
    # The lead sees the buttons and approves: in effect today, the check no longer owed.
    assert "Approve the change" in lead.get(url).content.decode()
    assert lead.post(act, {"note": "Agreed"}).status_code == 302
    assert lead.post(act, {"note": "again"}).status_code == 409
    covenant.refresh_from_db()
    check.refresh_from_db()
    assert covenant.state == "waived" and check.state == "cancelled"
    html = officer.get(url).content.decode()
    assert "Not tested up to and including" in html
    loan_page = officer.get(reverse("monitoring:loan", args=[covenant.loan_id])).content.decode()
    assert url in loan_page and "Waived for a period" in loan_page


def test_page_roles_and_scope(world, scheduled, login):
    covenant, _check = _covenant(scheduled)
    url = reverse("monitoring:covenant", args=[covenant.pk])
    propose = reverse("monitoring:covenant_change_propose", args=[covenant.pk])
    data = {"kind": "end", "effective_from": timezone.localdate().isoformat(),
            "reason": "Repaid the related facility"}
    assert login("postloan.south").get(url).status_code == 404
    assert login("postloan.south").post(propose, data).status_code == 404
    am = login("am.north")
    assert 'name="effective_from"' not in am.get(url).content.decode()
    assert am.post(propose, data).status_code == 403  # the server refuses, not the page
    assert login("postloan.north").post(propose, data).status_code == 302
    change = CovenantChange.objects.get(covenant=covenant)
    reject = reverse("monitoring:covenant_change_act", args=[change.pk, "reject"])
    reviewer = login("reviewer.north")
    missing = reviewer.post(reject, {"note": " "})
    assert missing.status_code == 400 and "Say why the change is rejected." in \
        missing.content.decode()
    assert reviewer.post(reject, {"note": "Still needed"}).status_code == 302


def test_api_lifecycle_statuses(world, scheduled, api_as):
    covenant, check = _covenant(scheduled)
    officer, lead = api_as("postloan.north"), api_as("lead.north")
    base = f"/api/v1/monitoring/covenants/{covenant.pk}/"
    assert officer.get(base).json()["state"] == "active"
    assert api_as("postloan.south").get(base).status_code == 404
    today = timezone.localdate().isoformat()
    body = {"kind": "amend", "effective_from": today, "new_text": "At least 50% of receipts",
            "reason": "Borrower moved payroll"}
    assert api_as("am.north").post(base + "changes/", body, format="json").status_code == 403
    bad = officer.post(base + "changes/", {**body, "reason": ""}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["fields"]
    made = officer.post(base + "changes/", body, format="json", HTTP_IDEMPOTENCY_KEY="cc-1")
    assert made.status_code == 201 and made.json()["state"] == "proposed"
    again = officer.post(base + "changes/", body, format="json", HTTP_IDEMPOTENCY_KEY="cc-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert officer.post(base + "changes/", body, format="json").status_code == 409
    change = made.json()["id"]
    approve = f"/api/v1/monitoring/covenant-changes/{change}/approve/"
    mine = officer.post(approve, {}, format="json")
    assert mine.status_code == 403 and "different person" in mine.json()["detail"]
    done = lead.post(approve, {"note": "ok"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "in_effect"
    assert officer.post(approve, {}, format="json").status_code == 403  # 403 before 409
    assert lead.post(approve, {}, format="json").status_code == 409
    detail = officer.get(base).json()
    assert detail["text"] == "At least 50% of receipts"
    assert detail["changes"][0]["previous"]["text"].startswith("Keep at least 60%")
    assert api_as("lead.south").post(approve, {}, format="json").status_code == 404


def test_schema_documents_the_lifecycle():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    propose = paths["/api/v1/monitoring/covenants/{covenant_id}/changes/"]["post"]["responses"]
    assert {"201", "400", "403", "404", "409"} <= set(propose)
    approve = paths["/api/v1/monitoring/covenant-changes/{change_id}/approve/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(approve["responses"])
