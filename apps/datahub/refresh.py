"""Scheduled off-site refreshes (domain reference §4.1): for every enterprise with a loan the
book still carries, each source whose `datahub.<source>.refresh_days` is in force is asked
again once its last answer is that old. The pulls are ordinary ones (purpose post-loan, the
loan's branch charged, consent and budget checked, the outbox, the cache); their changes reach
monitoring through `apps.datahub.hooks` when they are stored.

The persons around such an enterprise (its guarantors and legal representative) are
refreshed the same way by the sources that answer about persons, each once its
`datahub.<source>.person_refresh_days` is in force, and only with that person's own
post-loan consent: a W02 of a guarantor's credit report reaches the loan like the
enterprise's."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.task_names import TaskName
from apps.datahub.connectors import PERSON_SOURCES
from apps.datahub.models import Pull
from apps.datahub.policy import HubPolicy
from apps.datahub.services import BudgetExhausted, consent_in_force, pull_open
from apps.datahub.states import IN_FLIGHT, Channel, PullState, Purpose, Source
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.parties.models import Enterprise, Person, Relationship, RelationshipKind

log = logging.getLogger(__name__)

# The persons refreshed on the schedule (the others are asked about on request).
REFRESHED_PERSONS = (RelationshipKind.GUARANTOR, RelationshipKind.LEGAL_REPRESENTATIVE)


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
            opened += _open_refresh(enterprise_id, branch_id, source, now=now, counts=counts)
    opened += _persons_due(subjects, now=now, policy=policy, counts=counts,
                           limit=limit - opened)
    if any(counts.values()):
        log.info("datahub refresh: %s", counts)
    return counts


def _persons_due(subjects: list[tuple[int, int]], *, now: dt.datetime, policy: HubPolicy,
                 counts: dict[str, int], limit: int) -> int:
    """The persons' refreshes (see the module docstring), counted into `counts` (a person
    without a consent of their own is `no_consent`); returns how many pulls were opened."""
    branch_of = dict(subjects)
    links = list(Relationship.objects.filter(to_enterprise_id__in=list(branch_of),
                                             kind__in=REFRESHED_PERSONS,
                                             from_person__isnull=False)
                 .values_list("to_enterprise_id", "from_person_id")
                 .order_by("to_enterprise_id", "from_person_id").distinct())
    opened = 0
    for source in sorted(PERSON_SOURCES):
        days = policy.get(f"datahub.{source}.person_refresh_days")
        if days is None or not links:
            continue
        since = now - dt.timedelta(days=float(days))
        person_ids = {p for _, p in links}
        recent = set(Pull.objects.filter(source=source, person_id__in=person_ids).filter(
            Q(state__in=IN_FLIGHT, channel=Channel.HTTP)
            | Q(state=PullState.SUCCEEDED, fetched_at__gte=since,
                channel__in=[Channel.HTTP, Channel.FILE])).values_list("person_id", flat=True))
        for enterprise_id, person_id in links:
            if person_id in recent or opened >= limit:
                continue
            recent.add(person_id)   # a person behind two borrowers is asked once
            opened += _open_refresh(enterprise_id, branch_of[enterprise_id], source, now=now,
                                    counts=counts, person_id=person_id)
    return opened


def _open_refresh(enterprise_id: int, branch_id: int, source: str, *, now: dt.datetime,
                  counts: dict[str, int], person_id: int | None = None) -> int:
    """One post-loan refresh of the enterprise (or of one of its persons) under the
    enterprise's row lock, counted into `counts`; returns 1 when a pull was opened."""
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update(
            of=("self",), no_key=True).get(pk=enterprise_id)
        consent = consent_in_force(enterprise_id=enterprise_id, source=source,
                                   purpose=Purpose.POST_LOAN, on=timezone.localdate(now),
                                   person_id=person_id)
        if consent is None:
            counts["no_consent"] += 1
            return 0
        try:
            pull = pull_open(enterprise=enterprise, source=source, purpose=Purpose.POST_LOAN,
                             consent=consent, branch_id=branch_id, application_id=None,
                             actor=None, now=now, task=TaskName.DATAHUB_REFRESH_PULL_RUN,
                             person=Person.objects.get(pk=person_id) if person_id else None)
        except BudgetExhausted:
            counts["budget_stop"] += 1
            return 0
    counts["cached" if pull.channel == Channel.CACHE else "requested"] += 1
    return 1
