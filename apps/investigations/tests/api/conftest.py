import pytest

from apps.applications import services as app_services
from apps.applications.states import ApplicationState
from apps.investigations import workflow
from apps.investigations.seed import seed_builtin_templates


@pytest.fixture
def investigating(world):
    """A north application taken into investigation, with no investigation assigned yet."""
    seed_builtin_templates()
    application = world.in_state(ApplicationState.SUBMITTED)
    return app_services.application_start_investigation(application_id=application.pk,
                                                         actor=world.user("am.north"))


@pytest.fixture
def assigned(world, investigating):
    """Assigned to am.north (lead, also the file's manager) and assistant.north."""
    return workflow.investigation_assign(
        application_id=investigating.pk, lead_officer=world.user("am.north"),
        assisting_officer=world.user("assistant.north"), actor=world.user("lead.north"))


@pytest.fixture
def started(world, assigned):
    return workflow.investigation_start(investigation_id=assigned.pk,
                                        actor=world.user("assistant.north"))


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape of apps.core.exceptions: {"code", "detail", "fields"}."""
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    if code is not None:
        assert body["code"] == code, body
    return body


def demo_answer(item: dict, *, lat="31.2304", lng="121.4737"):
    """A valid answer for an item as the API describes it (the client's view, not the model)."""
    kind = item["answer_type"]
    if kind == "yes_no":
        return False
    if kind in ("number", "percent"):
        return "20"
    if kind == "money":
        return "500000"
    if kind == "date":
        return "2030-01-31"
    if kind == "text":
        return "Visited the premises with both officers; neighbours and suppliers confirm " \
               "the business has traded steadily for years.".ljust(item["min_length"] or 0, ".")
    if kind == "single_choice":
        return item["choices"][0]["code"]
    if kind == "multi_choice":
        return [item["choices"][0]["code"]]
    if kind == "table":
        cells = {c["code"]: ("note" if c["type"] == "text" else True if c["type"] == "yes_no"
                             else "2026-01-01" if c["type"] == "date" else "100000")
                 for c in item["columns"]}
        return [{"row": r["code"], **cells} for r in item["rows"]] if item["rows"] else [cells]
    if kind in ("photo", "document"):
        count = max(int(item["evidence"].get("photo_count") or 0), 1)
        return [f"ph-{item['code'].lower()}-{n}" for n in range(count)]
    if kind == "location":
        return {"lat": lat, "lng": lng}
    raise AssertionError(kind)


def demo_evidence(item: dict) -> dict | None:
    spec, evidence = item["evidence"] or {}, {}
    if spec.get("document_types"):
        evidence["documents"] = {t: [f"doc-{t}"] for t in spec["document_types"]}
    if spec.get("photo_count") and item["answer_type"] != "photo":
        evidence["photos"] = [f"ev-{item['code'].lower()}-{n}"
                              for n in range(int(spec["photo_count"]))]
    return evidence or None


def fill_required(client, investigation_id: int) -> int:
    """Answer every required, not yet answered item through the API; returns how many."""
    detail = client.get(f"/api/v1/investigations/{investigation_id}/").json()
    saved = 0
    for section in detail["sections"]:
        for item in section["items"]:
            if not item["required"] or item["answer_type"] == "derived" or item["answer"]:
                continue
            response = client.put(
                f"/api/v1/investigations/{investigation_id}/answers/{item['code']}/",
                {"value": demo_answer(item), "evidence": demo_evidence(item),
                 "expected_version": None}, format="json")
            assert response.status_code == 200, (item["code"], response.json())
            saved += 1
    return saved
