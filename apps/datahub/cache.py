"""The cache-hit path: a repeat question inside the source's freshness window, answered without
paying and without taking any lock.

`cache_answer()` runs before the locking path of `services.pull_request`. It reads (no row
lock): the hub's policy values, then in one statement the enterprise's branch, a consent in
force and the newest paid answer inside the freshness window, each through an index. When
there is one, it writes a single row, the cache `Pull` (channel `cache`, state `succeeded`
through the `answer_from_cache` transition, `answered_by` the paid pull, `saved` its price,
the officer as `requested_by`), in a transaction of its own committed with
`synchronous_commit = off` on PostgreSQL: the commit does not wait for the WAL flush. A
crash in the next fraction of a second can lose such a row; it holds no money and no
decision, only the saving of a query that was not paid, so the cost report could under-count
a saving, never over-count a spend.

What is audited, and when: every cache answer gets its `datahub.pull_answered_from_cache`
audit event (actor, branch, enterprise, application, query id, the paid pull, the saving and
the time it was answered), written by `cache_hits_audit()` in bulk on the periodic queue
(task `datahub.cache_hits_audit`, every minute), not inside the request: the audit chain's
head lock serialises every writer in the bank, which a read must not wait for.
`Pull.audit_pending` marks the rows still waiting (a partial index), so nothing is skipped
and nothing is audited twice. Paid pulls, failures, consents and imports are audited in
their own transactions as before.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from apps.accounts.selectors import visible_branch_ids
from apps.datahub.models import Consent, Pull
from apps.datahub.policy import HubPolicy
from apps.datahub.states import Channel, PullState
from apps.parties.models import Enterprise


def cache_answer(*, enterprise_id: int, source: str, purpose: str, actor,
                 application_id: int | None, person_id: int | None = None) -> Pull | None:
    """The cache pull answering this request, or None when the locking path must decide
    (no fresh answer, no consent, out of scope, an application or a person to check: all
    refusals are that path's, so their errors stay in one place).

    Three reads: the hub's policy values, the viewer's branches, and one statement for the
    enterprise's branch with its consent in force and its newest fresh paid answer (two
    correlated subqueries, each on an index)."""
    if application_id is not None or person_id is not None:
        return None   # the locking path checks the application or the person's link
    if not connection.features.supports_json_field_contains:
        return None   # SQLite: the locking path reads consents in Python
    limits = HubPolicy().source(source)
    now = timezone.now()
    today = timezone.localdate(now)
    consent = (Consent.objects.filter(enterprise_id=OuterRef("pk"), person__isnull=True,
                                      purpose=purpose, valid_from__lte=today,
                                      valid_until__gte=today, revoked_at__isnull=True,
                                      sources__contains=[source])
               .order_by("-valid_until", "-id"))
    paid = (Pull.objects.filter(enterprise_id=OuterRef("pk"), source=source,
                                person__isnull=True, channel__in=[Channel.HTTP, Channel.FILE],
                                state=PullState.SUCCEEDED,
                                fetched_at__gte=now - limits.freshness)
            .order_by("-fetched_at"))
    row = (Enterprise.objects.filter(pk=enterprise_id)
           .annotate(consent_id=Subquery(consent.values("id")[:1]),
                     paid_id=Subquery(paid.values("id")[:1]),
                     paid_at=Subquery(paid.values("fetched_at")[:1]),
                     paid_version=Subquery(paid.values("format_version")[:1]))
           .values_list("branch_id", "consent_id", "paid_id", "paid_at", "paid_version")
           .first())
    if row is None or row[1] is None or row[2] is None:
        return None
    branch_id, consent_id, paid_id, paid_at, paid_version = row
    branches = visible_branch_ids(viewer=actor)
    if branches is not None and branch_id not in branches:
        return None
    answered_by = Pull(pk=paid_id, fetched_at=paid_at, format_version=paid_version)
    pull = Pull(channel=Channel.CACHE, enterprise_id=enterprise_id, application_id=None,
                branch_id=branch_id, source=source, purpose=purpose, consent_id=consent_id,
                requested_by=actor, price=limits.price, audit_pending=True)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        pull.answer_from_cache(paid=answered_by, at=now)
        pull.save()
    return pull


def cache_hits_audit(*, limit: int = 5000) -> int:
    """Write the audit events of cache answers not audited yet (oldest first, at most
    `limit`; rows another sweep holds are skipped). Returns how many were audited."""
    from apps.datahub.services import _audit

    with transaction.atomic():
        pulls = list(Pull.objects.select_for_update(of=("self",), skip_locked=True)
                     .filter(audit_pending=True).select_related("requested_by")
                     .order_by("id")[:limit])
        if not pulls:
            return 0
        Pull.objects.filter(pk__in=[p.pk for p in pulls]).update(audit_pending=False)
        for pull in pulls:
            _audit(pull, "datahub.pull_answered_from_cache", pull.requested_by,
                   {"answered_by": pull.answered_by_id, "saved": str(pull.saved),
                    "answered_at": pull.finished_at.isoformat(), "recorded_later": True})
    return len(pulls)


def audit_lag(*, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How long the oldest cache answer has waited for its audit event (None: none waits)."""
    oldest = (Pull.objects.filter(audit_pending=True).order_by("id")
              .values_list("finished_at", flat=True).first())
    return None if oldest is None else (now or timezone.now()) - oldest
