"""Inspection pages and API: branch scope (403/404), commands, idempotency, the blocks."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_services import inspection_schedule_generate
from apps.monitoring.inspection_views import inspection_panel_context
from apps.monitoring.tests.inspections.inspection_factories import (
    M1_ANSWERS,
    M1_NOT_APPLICABLE,
    make_loan,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def first(world):
    loan = make_loan(world)
    inspection_schedule_generate(loan_id=loan.pk)
    return Inspection.objects.get(loan=loan, kind="m1")


def _page(world, username):
    client = Client()
    client.force_login(world.user(username))
    return client


def test_due_list_form_and_review_pages_are_branch_scoped(world, first):
    officer = _page(world, "postloan.north")
    listing = officer.get(reverse("monitoring:inspection_list"))
    assert listing.status_code == 200
    assert reverse("monitoring:inspection_form", args=[first.pk]) in listing.content.decode()
    form = officer.get(reverse("monitoring:inspection_form", args=[first.pk]))
    assert form.status_code == 200 and 'data-role="start"' in form.content.decode()
    stranger = _page(world, "postloan.south")
    assert stranger.get(reverse("monitoring:inspection_form", args=[first.pk])).status_code == 404
    assert stranger.post(reverse("monitoring:inspection_start", args=[first.pk])).status_code == 404
    assert stranger.get(reverse("monitoring:inspection_review",
                                args=[first.pk])).status_code == 404
    # A colleague of the branch may read but not start someone else's inspection.
    colleague = _page(world, "am.north")
    assert colleague.post(reverse("monitoring:inspection_start",
                                  args=[first.pk])).status_code == 403


def test_zh_page_renders_in_chinese(world, first):
    officer = _page(world, "postloan.north")
    officer.post(reverse("monitoring:inspection_start", args=[first.pk]))
    response = officer.get(reverse("monitoring:inspection_form", args=[first.pk]),
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "检查地点" in response.content.decode()


def test_api_walk_with_idempotency_and_four_eyes(world, first, api_as):
    officer, lead = api_as("postloan.north"), api_as("lead.north")
    base = f"/api/v1/inspections/{first.pk}/"
    assert api_as("postloan.south").get(base).status_code == 404
    assert officer.post(base + "start/", {}, format="json",
                        HTTP_IDEMPOTENCY_KEY="s-1").status_code == 200
    again = officer.post(base + "start/", {}, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert again.status_code == 200  # a replay, not a second move
    assert officer.post(base + "start/", {}, format="json").status_code == 409
    bad = officer.put(base + "answers/COOPERATION/", {"value": "sort of"}, format="json")
    assert bad.status_code == 400 and "COOPERATION" in bad.json()["fields"]
    incomplete = officer.post(base + "submit/", {"proposed_class": "normal",
                                                 "class_reason": "ok"}, format="json")
    assert incomplete.status_code == 409
    assert incomplete.json()["code"] == "inspection_incomplete"
    for code, value in M1_ANSWERS.items():
        saved = officer.put(base + f"answers/{code}/", {"value": value}, format="json")
        assert saved.status_code == 200, saved.json()
    for code, reason in M1_NOT_APPLICABLE.items():
        officer.put(base + f"answers/{code}/", {"not_applicable": True, "na_reason": reason},
                    format="json")
    stale = officer.put(base + "answers/PLACE/", {"value": "Another place"}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "answer_conflict"
    submitted = officer.post(base + "submit/", {"proposed_class": "normal",
                                                "class_reason": "As agreed.",
                                                "actions": ["contact"]}, format="json")
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    assert officer.post(base + "review/", {}, format="json").status_code == 403
    detail = lead.get(base).json()
    assert detail["available_actions"] == ["review", "return_for_correction"]
    reviewed = lead.post(base + "review/", {"note": "Seen."}, format="json",
                         HTTP_IDEMPOTENCY_KEY="r-1")
    assert reviewed.status_code == 200 and reviewed.json()["state"] == "reviewed"
    mine = officer.get("/api/v1/inspections/?due=mine").json()
    assert first.pk not in [row["id"] for row in mine["results"]]


def test_loan_panel_lists_upcoming_inspections(world, first):
    html = render_to_string("monitoring/partials/inspection_panel.html",
                            inspection_panel_context(viewer=world.user("postloan.north"),
                                                     loan=first.loan))
    assert reverse("monitoring:inspection_form", args=[first.pk]) in html
