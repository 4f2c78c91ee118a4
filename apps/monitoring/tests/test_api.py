"""The monitoring API: 404 across branches, 403 before 409, 400 with fields, idempotency."""

from apps.monitoring.models import Action
from apps.monitoring.services.signals import signal_raise


def test_propose_confirm_via_api(world, api_as):
    loan = world.loan(dpd=95)
    officer = api_as("postloan.north")
    url = f"/api/v1/monitoring/loans/{loan.pk}/classifications/"
    refused = officer.post(url, {"category": "normal", "reason": "promises"}, format="json")
    assert refused.status_code == 400 and "category" in refused.json()["fields"]
    body = {"category": "doubtful", "reason": "Owner unreachable"}
    made = officer.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert made.status_code == 201, made.json()
    replay = officer.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    proposal = made.json()["id"]
    confirm = f"/api/v1/monitoring/classifications/{proposal}/confirm/"
    assert officer.post(confirm, {}, format="json").status_code == 403
    assert api_as("reviewer.south").post(confirm, {}, format="json").status_code == 404
    done = api_as("reviewer.north").post(confirm, {"note": "agreed"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "in_force"
    again = api_as("reviewer.north").post(confirm, {}, format="json")
    assert again.status_code == 409
    panel = api_as("postloan.north").get(f"/api/v1/monitoring/loans/{loan.pk}/").json()
    assert panel["classifications"][0]["category"] == "doubtful"
    assert api_as("postloan.south").get(f"/api/v1/monitoring/loans/{loan.pk}/").status_code == 404


def test_signal_and_action_commands(world, api_as):
    loan = world.loan()
    signal = signal_raise(loan_id=loan.pk, code="W17", observed="diverted", source="check")
    officer = api_as("postloan.north")
    worklist = officer.get("/api/v1/monitoring/worklist/").json()
    assert [s["code"] for s in worklist["signals"]] == ["W17"]
    assert len(worklist["actions"]) == 4
    close = f"/api/v1/monitoring/signals/{signal.pk}/close/"
    assert officer.post(close, {"note": ""}, format="json").status_code == 400
    asked = officer.post(close, {"note": "Funds back"}, format="json")
    assert asked.json()["state"] == "close_requested"
    decide = f"/api/v1/monitoring/signals/{signal.pk}/close-decision/"
    assert officer.post(decide, {"confirm": True}, format="json").status_code == 403
    closed = api_as("lead.north").post(decide, {"confirm": True}, format="json")
    assert closed.json()["state"] == "closed"
    action = Action.objects.get(loan=loan, kind="contact")
    done = officer.post(f"/api/v1/monitoring/actions/{action.pk}/complete/",
                        {"note": "Visited"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert api_as("postloan.south").post(f"/api/v1/monitoring/actions/{action.pk}/waive/",
                                         {"reason": "x"}, format="json").status_code == 404


def test_npl_api(world, api_as):
    world.loan(dpd=100)
    rows = api_as("postloan.north").get("/api/v1/monitoring/npl/?by=product").json()
    assert rows[0]["ratio"] == "1.000000"
    assert api_as("postloan.north").get("/api/v1/monitoring/npl/?by=x").status_code == 400


def test_migration_api(world, api_as, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from apps.monitoring.models import ClassificationRunChunk
    from apps.monitoring.services.run import classification_chunk_run, classification_run_start

    loan = world.loan(dpd=20)
    today = timezone.localdate()
    for as_of in (today - dt.timedelta(days=30), today):
        run = classification_run_start(as_of=as_of)
        for chunk in ClassificationRunChunk.objects.filter(run=run):
            classification_chunk_run(chunk_id=chunk.pk)
        loan.dpd_principal = 100
        loan.save(update_fields=["dpd_principal"])
    url = (f"/api/v1/monitoring/migration/?from_date={today - dt.timedelta(days=30)}"
           f"&to_date={today}")
    body = api_as("postloan.north").get(url).json()
    assert body["cells"] == [{"from_category": "special_mention", "to_category": "substandard",
                              "count": 1, "balance": "100000.00"}]
    assert api_as("postloan.north").get("/api/v1/monitoring/migration/").status_code == 400
