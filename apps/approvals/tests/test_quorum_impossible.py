"""A committee item whose eligible members are fewer than the quorum can never close: it is
found when the step opens or at a vote, audited once, escalated to the team leads at once, and
shown on the dossier and in the inbox."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.models import User
from apps.approvals.models import Committee
from apps.approvals.seed import BRANCH_COMMITTEE, seed_approval_staff
from apps.approvals.services import QuorumNotReached, committee_vote_cast, committee_vote_close
from apps.approvals.states import StepState
from apps.approvals.tests.factories import PASSWORD, in_approval
from apps.audit.models import AuditEvent

NORTH = "north-credit-committee"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from celery import current_app

    monkeypatch.setattr(current_app, "send_task", lambda name, kwargs, **options: None)


def _staff_with_mail(quorum=None):
    seed_approval_staff()
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@bank.test")
    if quorum is not None:
        Committee.objects.filter(code=NORTH).update(quorum=quorum)


def test_found_when_the_step_opens_escalated_once_and_shown(
        world, client, api_as, django_capture_on_commit_callbacks):
    _staff_with_mail(quorum=5)  # 4 members in the pool
    with django_capture_on_commit_callbacks(execute=True):
        application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    assert step.state == StepState.WAITING and step.quorum_impossible_at is not None
    event = AuditEvent.objects.get(action="approval_step.quorum_impossible")
    assert event.payload["quorum"] == 5 and len(event.payload["eligible"]) == 4
    assert event.payload["team_leads"] == [world.user("lead.north").pk]
    alerts = [m for m in mail.outbox if m.subject.startswith("Quorum impossible")]
    assert [m.to for m in alerts] == [["lead.north@bank.test"]]
    assert "4 member(s)" in alerts[0].body and "5 votes" in alerts[0].body

    route_api = api_as("lead.north").get(f"/api/v1/approvals/applications/{application.pk}/route/")
    assert route_api.json()["steps"][0]["quorum_impossible_at"] is not None
    client.force_login(world.user("lead.north"))
    dossier = client.get(reverse("approvals:dossier", args=[application.pk])).content.decode()
    assert "quorum-impossible" in dossier and "The quorum cannot be reached" in dossier
    client.force_login(world.user("committee.north"))
    inbox = client.get(reverse("approvals:inbox")).content.decode()
    assert 'class="bad quorum-impossible"' in inbox

    # Votes do not raise it again; the chair's close says why it can never close.
    committee_vote_cast(step_id=step.pk, actor=world.user("committee2.north"),
                        password=PASSWORD, choice="approve")
    assert AuditEvent.objects.filter(action="approval_step.quorum_impossible").count() == 1
    with pytest.raises(QuorumNotReached, match="cannot be reached"):
        committee_vote_close(step_id=step.pk, actor=world.user("committee.north"))


def test_found_at_a_vote_when_recusals_grew_after_opening(
        world, client, django_capture_on_commit_callbacks):
    _staff_with_mail()  # quorum 3 of 4: fine at opening
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    step = route.steps.get()
    assert step.quorum_impossible_at is None
    assert not AuditEvent.objects.filter(action="approval_step.quorum_impossible").exists()
    client.force_login(world.user("committee.north"))
    dossier = client.get(reverse("approvals:dossier", args=[application.pk])).content.decode()
    assert "quorum-impossible" not in dossier
    User.objects.filter(username__in=["committee3.north", "committee4.north"]).update(
        is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        committee_vote_cast(step_id=step.pk, actor=world.user("committee2.north"),
                            password=PASSWORD, choice="approve")
    step.refresh_from_db()
    assert step.state == StepState.WAITING and step.quorum_impossible_at is not None
    event = AuditEvent.objects.get(action="approval_step.quorum_impossible")
    assert event.actor_id == world.user("committee2.north").pk
    assert any(m.to == ["lead.north@bank.test"] and "Quorum impossible" in m.subject
               for m in mail.outbox)
