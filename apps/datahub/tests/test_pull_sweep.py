"""The pull sweep: a pull whose worker died mid-query, or whose message was lost, is sent again
and then runs once, charged once (the worker-kill drill found them waiting ten minutes)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.datahub import services
from apps.datahub.models import Pull
from apps.datahub.states import PullState
from apps.datahub.sweep import pull_sweep
from apps.datahub.tests.conftest import consent_for

pytestmark = pytest.mark.django_db


def _request(people):
    consent_for(people.firm, people.am)
    pull = services.pull_request(enterprise_id=people.firm.pk, source="court",
                                 purpose="pre_loan", actor=people.am)
    OutboxMessage.objects.all().delete()      # the request's own message: sent, then lost
    return pull


def _messages():
    return list(OutboxMessage.objects.values_list("task_name", "kwargs"))


def test_a_pull_whose_worker_died_is_sent_again_once_its_claim_runs_out(hub, people):
    pull = _request(people)
    now = timezone.now()
    pull.start(until=now + dt.timedelta(minutes=5))           # a worker took it, then died
    pull.save()
    assert pull_sweep(now=now) == {"claim_expired": 0, "message_lost": 0}   # still held
    assert _messages() == []
    later = now + dt.timedelta(minutes=6)
    assert pull_sweep(now=later) == {"claim_expired": 1, "message_lost": 0}
    assert _messages() == [("datahub.pull_run", {"pull_id": pull.pk})]
    event = AuditEvent.objects.get(action="datahub.pull_resent")
    assert event.payload["reason"] == "claim_expired" and event.branch_id == people.north.pk
    # The sent task takes the pull over; a second delivery (the broker's own) finds it done.
    Pull.objects.filter(pk=pull.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED
    assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED
    pull.refresh_from_db()
    assert hub.court.calls == 1 and pull.cost == Decimal("3")
    assert pull_sweep(now=later) == {"claim_expired": 0, "message_lost": 0}


def test_a_requested_pull_whose_message_was_lost_is_sent_again_after_the_grace(
        hub, people, settings):
    settings.DATAHUB_PULL_LOST_MINUTES = 15
    pull = _request(people)
    now = timezone.now()
    assert pull_sweep(now=now + dt.timedelta(minutes=14)) == {"claim_expired": 0,
                                                               "message_lost": 0}
    assert pull_sweep(now=now + dt.timedelta(minutes=16)) == {"claim_expired": 0,
                                                               "message_lost": 1}
    assert _messages() == [("datahub.pull_run", {"pull_id": pull.pk})]
    assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED
    assert pull_sweep(now=now + dt.timedelta(minutes=30)) == {"claim_expired": 0,
                                                               "message_lost": 0}
    assert hub.court.calls == 1


def test_a_scheduled_refresh_goes_back_to_the_bulk_task(hub, people):
    pull = _request(people)
    Pull.objects.filter(pk=pull.pk).update(requested_by=None)
    pull_sweep(now=timezone.now() + dt.timedelta(hours=1))
    assert _messages() == [("datahub.refresh_pull_run", {"pull_id": pull.pk})]


def test_finished_pulls_are_never_sent_again(hub, people):
    pull = _request(people)
    services.pull_run(pull_id=pull.pk)
    assert Pull.objects.get(pk=pull.pk).state == PullState.SUCCEEDED
    assert pull_sweep(now=timezone.now() + dt.timedelta(hours=1)) == {"claim_expired": 0,
                                                                       "message_lost": 0}
    assert _messages() == []
