"""Pulls no worker is on are sent again, so a paid question never waits on the broker's memory.

Two kinds (found by the worker-kill drill, bench/drills/drill_pull_worker_kill.py):
  * running, with its claim run out: the worker died mid-query. Redis hands an unacknowledged
    task back only after its visibility timeout (ten minutes), the price reserved in the
    branch's budget all the while;
  * requested longer than DATAHUB_PULL_LOST_MINUTES (5, as for document checks) ago and never
    claimed: the message was lost after the outbox sent it (Redis keeps nothing on disk), or
    sat prefetched in a worker that was killed (back only after the visibility timeout). A
    pull merely queued behind a long backlog is sent again too; the extra message finds it
    done or held and costs one row read.
Sending twice is safe: the task decides under the pull's row lock (`services._claim`), so a
pull runs once and is charged once. Each re-send is recorded in the outbox in its own short
transaction, with an audit event naming the reason.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.datahub.models import Pull
from apps.datahub.states import Channel, PullState

# One sweep's share; the next sweep takes the rest.
_BATCH = 1000


def _resend(pull_id: int, reason: str, now: dt.datetime) -> bool:
    with transaction.atomic():
        pull = (Pull.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk=pull_id).first())
        if pull is None or not _still_stranded(pull, now):
            return False
        # Scheduled refreshes (no person asked) go back to the bulk queue they came from.
        task = (TaskName.DATAHUB_REFRESH_PULL_RUN if pull.requested_by_id is None
                else TaskName.DATAHUB_PULL_RUN)
        enqueue_on_commit(task, pull_id=pull.pk)
        audit_record(action="datahub.pull_resent", actor=None, subject=pull,
                     branch_id=pull.branch_id, enterprise_id=pull.enterprise_id,
                     application_id=pull.application_id,
                     payload={"source": pull.source, "query_id": str(pull.query_id),
                              "reason": reason})
    return True


def _lost_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=getattr(settings, "DATAHUB_PULL_LOST_MINUTES", 5))


def _still_stranded(pull: Pull, now: dt.datetime) -> bool:
    if pull.channel != Channel.HTTP:
        return False
    if pull.state == PullState.RUNNING:
        return pull.claimed_until is not None and pull.claimed_until < now
    return pull.state == PullState.REQUESTED and pull.created_at < _lost_before(now)


def pull_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send again every pull whose worker died or whose message was lost (see the module
    docstring). Returns how many of each were sent."""
    now = now or timezone.now()
    http = Pull.objects.filter(channel=Channel.HTTP)
    stranded = {
        "claim_expired": http.filter(state=PullState.RUNNING, claimed_until__lt=now),
        "message_lost": http.filter(state=PullState.REQUESTED,
                                    created_at__lt=_lost_before(now)),
    }
    counts = dict.fromkeys(stranded, 0)
    for reason, pulls in stranded.items():
        for pull_id in list(pulls.order_by("pk").values_list("pk", flat=True)[:_BATCH]):
            counts[reason] += _resend(pull_id, reason, now)
    return counts
