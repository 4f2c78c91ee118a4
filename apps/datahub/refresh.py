"""Scheduled off-site refreshes (domain reference §4.1): for every enterprise with a loan the
book still carries, each source whose `datahub.<source>.refresh_days` is in force is asked
again once its last answer is that old. The pulls are ordinary ones (purpose post-loan, the
loan's branch charged, consent and budget checked, the outbox, the cache); their changes reach
monitoring through `apps.datahub.hooks` when they are stored. These are the enterprise's own
reports; the persons around it (guarantors …) are asked about on request, not on this
schedule."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from apps.core.task_names import TaskName
from apps.datahub.models import Pull
from apps.datahub.policy import HubPolicy
from apps.datahub.services import BudgetExhausted, consent_in_force, pull_open
from apps.datahub.states import IN_FLIGHT, Channel, PullState, Purpose, Source
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.parties.models import Enterprise

log = logging.getLogger(__name__)


def refresh_due(*, now: dt.datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Open the refresh pulls that are due; at most `limit` per run (the next run goes on).
    Idempotent: a source answered within its interval, or with a pull in flight, is skipped."""
    now = now or timezone.now()
    policy = HubPolicy()
    counts = {"requested": 0, "cached": 0, "no_consent": 0, "budget_stop": 0}
    subjects = list(Loan.objects.filter(state__in=OPEN_LOAN_STATES)
                    .values_list("enterprise_id", "branch_id").order_by("enterprise_id")
                    .distinct())
    opened = 0
    for source in Source.values:
        days = policy.get(f"datahub.{source}.refresh_days")
        if days is None:
            continue   # this source is not refreshed on a schedule
        since = now - dt.timedelta(days=float(days))
        recent = set(Pull.objects.filter(source=source, enterprise_id__in=[s[0] for s in subjects])
                     .filter(state__in=IN_FLIGHT, channel=Channel.HTTP, person__isnull=True)
                     .values_list("enterprise_id", flat=True)) | set(
            Pull.objects.filter(source=source, state=PullState.SUCCEEDED, fetched_at__gte=since,
                                channel__in=[Channel.HTTP, Channel.FILE], person__isnull=True)
            .values_list("enterprise_id", flat=True))
        for enterprise_id, branch_id in subjects:
            if enterprise_id in recent or opened >= limit:
                continue
            recent.add(enterprise_id)   # one loan per enterprise is enough
            with transaction.atomic():
                enterprise = Enterprise.objects.select_for_update(
                    of=("self",), no_key=True).get(pk=enterprise_id)
                consent = consent_in_force(enterprise_id=enterprise_id, source=source,
                                           purpose=Purpose.POST_LOAN, on=timezone.localdate(now))
                if consent is None:
                    counts["no_consent"] += 1
                    continue
                try:
                    pull = pull_open(enterprise=enterprise, source=source,
                                     purpose=Purpose.POST_LOAN, consent=consent,
                                     branch_id=branch_id, application_id=None, actor=None,
                                     now=now, task=TaskName.DATAHUB_REFRESH_PULL_RUN)
                except BudgetExhausted:
                    counts["budget_stop"] += 1
                    continue
            opened += 1
            counts["cached" if pull.channel == Channel.CACHE else "requested"] += 1
    if any(counts.values()):
        log.info("datahub refresh: %s", counts)
    return counts
