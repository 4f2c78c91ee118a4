"""Pages: the inbox (constant queries, filters, sorting, time waiting), the dossier with the
sign-off form and its password, committee sessions, the menu count."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.applications.states import ApplicationState as S
from apps.approvals.seed import BRANCH_COMMITTEE
from apps.approvals.services import committee_session_schedule
from apps.approvals.tests.factories import PASSWORD, in_approval, under_review
from apps.audit.models import AuditEvent


def _client(client, world, username):
    client.force_login(world.user(username))
    return client


def test_inbox_query_count_is_constant(world, client):
    in_approval(world)
    _client(client, world, "approver.north")
    url = reverse("approvals:inbox")
    # A session's first page reads the person's rights once and keeps them (apps/accounts/authz.py).
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    from apps.approvals.services import review_send_to_approval

    for _ in range(6):
        review_send_to_approval(application_id=under_review(world).pk,
                                actor=world.user("reviewer.north"), risks="x")
    with CaptureQueriesContext(connection) as seven:
        response = client.get(url)
    assert response.content.decode().count("approvals/applications/") >= 7
    assert len(seven) == len(one)


def test_inbox_filters_and_sorts(world, client):
    small, _route = in_approval(world, proposed_amount=Decimal("100000"))
    from apps.approvals.services import review_send_to_approval

    big = under_review(world)
    review_send_to_approval(application_id=big.pk, actor=world.user("reviewer.north"),
                            risks="x")
    _client(client, world, "approver.north")
    page = client.get(reverse("approvals:inbox"), {"sort": "-amount"}).content.decode()
    assert page.index(big.reference) < page.index(small.reference)
    page = client.get(reverse("approvals:inbox"), {"sort": "amount"}).content.decode()
    assert page.index(small.reference) < page.index(big.reference)
    page = client.get(reverse("approvals:inbox"), {"grade": "A"}).content.decode()
    assert small.reference not in page


def test_the_menu_shows_the_waiting_count(world, client):
    in_approval(world)
    page = _client(client, world, "approver.north").get(reverse("approvals:inbox"))
    assert '<span class="count">1</span>' in page.content.decode()


def test_dossier_shows_everything_and_signs_with_the_password(world, client):
    application, route = in_approval(world, walk=True, conditions=["Guarantee signed"])
    _client(client, world, "approver.north")
    url = reverse("approvals:dossier", args=[application.pk])
    page = client.get(url).content.decode()
    for part in ("Enterprise", "Red flags", "Cross-check findings", "Documents",
                 "Review opinions", "Customer concentration.", "Approval route", "Score",
                 "Guarantee signed", 'type="password"'):
        assert part in page, part
    sign_url = reverse("approvals:step-sign", args=[route.steps.get().pk])
    wrong = client.post(sign_url, {"decision": "approve", "reason": "ok", "password": "x"})
    assert wrong.status_code == 403 and "password is not correct" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="approval.password_refused").count() == 1
    response = client.post(sign_url, {"decision": "approve", "reason": "Sound.",
                                       "password": PASSWORD})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.APPROVED


def test_the_maker_sees_no_sign_form(world, client):
    application, route = in_approval(world)
    page = _client(client, world, "am.north").get(
        reverse("approvals:dossier", args=[application.pk])).content.decode()
    assert 'type="password"' not in page and "segregation of duties" in page
    response = client.post(reverse("approvals:step-sign", args=[route.steps.get().pk]),
                           {"decision": "approve", "reason": "x", "password": PASSWORD})
    assert response.status_code == 403


def test_other_branches_get_404(world, client):
    application, route = in_approval(world)
    _client(client, world, "approver.south")
    assert client.get(reverse("approvals:dossier", args=[application.pk])).status_code == 404


def test_the_review_form_sends_to_approval(world, client):
    from apps.approvals.tests.factories import approvals_ready

    approvals_ready()
    application = under_review(world)
    _client(client, world, "reviewer.north")
    bad = client.post(reverse("approvals:review-send", args=[application.pk]), {"risks": ""})
    assert bad.status_code == 400
    ok = client.post(reverse("approvals:review-send", args=[application.pk]),
                     {"risks": "Concentration", "conditions": "Guarantee\nInsurance"})
    assert ok.status_code == 302
    application.refresh_from_db()
    assert application.state == S.IN_APPROVAL
    detail = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "Approval route" in detail or "Approval" in detail


def test_session_page_lists_the_agenda_with_sealed_votes(world, client):
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    chair = world.user("committee.north")
    session = committee_session_schedule(committee=step.committee, scheduled_for=timezone.now(),
                                         step_ids=[step.pk], actor=chair)
    from apps.approvals.services import committee_vote_cast

    committee_vote_cast(step_id=step.pk, actor=world.user("committee2.north"),
                        password=PASSWORD, choice="reject", opinion="Secret reasons")
    page = _client(client, world, "committee.north").get(
        reverse("approvals:session-detail", args=[session.pk])).content.decode()
    assert application.reference in page and "voted (sealed)" in page
    assert "Secret reasons" not in page
    assert _client(client, world, "approver.north").get(
        reverse("approvals:session-detail", args=[session.pk])).status_code == 404


@pytest.mark.parametrize("username", ["approver.north", "committee.north", "reviewer.north"])
def test_inbox_opens_for_deciders(world, client, username):
    assert _client(client, world, username).get(reverse("approvals:inbox")).status_code == 200


def test_a_member_schedules_a_session_from_the_page(world, client):
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    _client(client, world, "committee.north")
    page = client.get(reverse("approvals:sessions")).content.decode()
    assert application.reference in page
    response = client.post(reverse("approvals:sessions"), {
        "committee": step.committee_id, "scheduled_for": "2026-12-01T09:30",
        "steps": [step.pk]})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.session is not None and step.session.committee_id == step.committee_id
    assert client.post(reverse("approvals:sessions"), {"committee": step.committee_id}
                       ).status_code == 400


@pytest.mark.parametrize(("field", "values"), [
    ("committee", {"committee": "abc"}),
    ("committee", {"committee": "²"}),
    ("committee", {"committee": "99999999999999999999999"}),
    ("scheduled_for", {"scheduled_for": "2026-13-45T25:61"}),
    ("scheduled_for", {"scheduled_for": "tomorrow"}),
    ("steps", {"steps": ["²"]}),
    ("steps", {"steps": ["abc", "-1"]}),
])
def test_malformed_session_fields_are_field_errors_not_500(world, client, field, values):
    _, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    _client(client, world, "committee.north")
    data = {"committee": step.committee_id, "scheduled_for": "2026-12-01T09:30",
            "steps": [step.pk], **values}
    response = client.post(reverse("approvals:sessions"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'class="field-error"' in response.content.decode()
    step.refresh_from_db()
    assert step.session is None


def test_reviewers_see_files_waiting_for_review(world, client):
    application = under_review(world)
    page = _client(client, world, "reviewer.north").get(reverse("approvals:inbox"))
    assert application.reference in page.content.decode()
    page = _client(client, world, "reviewer.south").get(reverse("approvals:inbox"))
    assert application.reference not in page.content.decode()
