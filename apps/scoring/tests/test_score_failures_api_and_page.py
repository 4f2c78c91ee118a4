"""The failed-scores page and API: who sees them, sentences not reprs, re-run, JSON errors
with 403 before 409, documented statuses, and the list's query count."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.scoring.models import ScoreFailure
from apps.scoring.states import ScoreFailureState as S
from apps.scoring.tests.failure_helpers import (
    break_champion,
    publish_max_attempts,
    repair_champion,
    score_task,
)

pytestmark = pytest.mark.django_db
LIST = "/api/v1/scoring/failures/"


@pytest.fixture
def failed(world, investigated):
    """An application whose score failed every attempt allowed (north branch)."""
    publish_max_attempts(world, 2)
    original = break_champion()
    score_task(investigated.pk)
    score_task(investigated.pk, trigger="sweeper")
    failure = ScoreFailure.objects.get(application=investigated)
    assert failure.state == S.FAILED
    failure.original_artefact = original
    return failure


def _page(world, username):
    client = Client()
    client.force_login(world.user(username))
    return client


@pytest.mark.parametrize("username,status", [
    ("reviewer.north", 200), ("admin.north", 200), ("auditor.north", 200),
    ("am.north", 403), ("approver.north", 403), ("lead.north", 403), ("ops.north", 403)])
def test_the_page_is_for_credit_policy_operations_and_audit(world, failed, username, status):
    assert _page(world, username).get(reverse("scoring:score-failures")).status_code == status


def test_the_page_says_what_failed_in_a_sentence_with_a_rerun_button(world, failed):
    html = _page(world, "reviewer.north").get(reverse("scoring:score-failures")).content.decode()
    reference = failed.application.reference
    assert f"Application {reference} of {failed.application.enterprise.name} could not be " \
           "scored after 2 attempts" in html
    assert "stored artefact is missing or does not match its checksum" in html
    assert "ArtefactError" not in html and "Traceback" not in html and "&lt;" not in html
    assert reverse("scoring:score-failure-rerun", args=[failed.pk]) in html
    auditor = _page(world, "auditor.north").get(reverse("scoring:score-failures"))
    assert reference in auditor.content.decode()
    assert reverse("scoring:score-failure-rerun", args=[failed.pk]) not in \
        auditor.content.decode()  # may read, may not re-run


def test_another_branch_does_not_see_the_failure(world, failed):
    html = _page(world, "reviewer.south").get(reverse("scoring:score-failures")).content.decode()
    assert failed.application.reference not in html
    response = _page(world, "reviewer.south").post(
        reverse("scoring:score-failure-rerun", args=[failed.pk]))
    assert response.status_code == 404


def test_the_rerun_button_queues_the_score_and_the_fix_resolves_it(world, failed):
    repair_champion(failed.original_artefact)
    client = _page(world, "reviewer.north")
    response = client.post(reverse("scoring:score-failure-rerun", args=[failed.pk]), follow=True)
    assert response.status_code == 200
    assert f"Application {failed.application.reference} is queued to be scored again." in \
        response.content.decode()
    failed.refresh_from_db()
    assert failed.state == S.RETRYING
    score_task(failed.application_id, trigger="on_demand")
    failed.refresh_from_db()
    assert failed.state == S.RESOLVED
    again = client.post(reverse("scoring:score-failure-rerun", args=[failed.pk]), follow=True)
    assert "Only a failed score can be re-run; this one is resolved now." in \
        again.content.decode()


def test_api_lists_failures_with_sentences(world, failed, api_as):
    body = api_as("reviewer.north").get(LIST).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == failed.pk and row["state"] == "failed" and row["attempts"] == 2
    assert row["max_attempts"] == 2 and row["reason"] == "model_unavailable"
    assert row["sentence"].startswith(f"Application {failed.application.reference} of ")
    assert row["application_reference"] == failed.application.reference
    assert api_as("reviewer.north").get(LIST, {"state": "retrying"}).json()["count"] == 0
    assert api_as("reviewer.south").get(LIST).json()["count"] == 0
    bad = api_as("reviewer.north").get(LIST, {"state": "nope"})
    assert bad.status_code == 400 and "state" in bad.json()["fields"]


@pytest.mark.parametrize("username", ["am.north", "approver.north", "ops.north"])
def test_api_list_refuses_other_roles_in_json(world, failed, api_as, username):
    response = api_as(username).get(LIST)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_api_list_is_three_queries_whatever_the_number(world, failed, api_as,
                                                       django_assert_max_num_queries):
    client = api_as("reviewer.north")
    client.get(LIST)  # warm the role cache of the user object
    with django_assert_max_num_queries(3):
        assert client.get(LIST).status_code == 200


def test_api_rerun_202_then_409_and_403_first(world, failed, api_as):
    url = f"{LIST}{failed.pk}/rerun/"
    refused = api_as("auditor.north").post(url)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert api_as("reviewer.south").post(url).status_code == 404  # existence not revealed
    response = api_as("admin.north").post(url)
    assert response.status_code == 202
    assert response.json()["state"] == "retrying" and response.json()["attempts"] == 0
    conflict = api_as("admin.north").post(url)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "transition_not_allowed"
    assert "Only a failed score can be re-run" in conflict.json()["detail"]
    assert api_as("auditor.north").post(url).status_code == 403  # 403 before 409


def test_openapi_documents_the_statuses(api_as):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    listing = schema["paths"]["/api/v1/scoring/failures/"]["get"]["responses"]
    rerun = schema["paths"]["/api/v1/scoring/failures/{failure_id}/rerun/"]["post"]["responses"]
    assert {"200", "400", "401", "403"} <= set(listing)
    assert {"202", "401", "403", "404", "409", "422"} <= set(rerun)


@pytest.mark.parametrize("username,shown", [
    ("reviewer.north", True), ("admin.north", True), ("auditor.north", False),
    ("approver.north", False), ("am.north", False)])
def test_the_main_menu_links_the_page_for_those_who_can_rerun(world, username, shown):
    """The menu leads to the failed scores those who can act on them (re-run); an auditor
    may open the page but has nothing to do there, so it is not in the menu."""
    nav = _page(world, username).get(reverse("web:home")).context["nav_items"]
    urls = [item["url"] for item in nav]
    assert (reverse("scoring:score-failures") in urls) is shown
