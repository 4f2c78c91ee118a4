"""The cache-hit path: a repeat question inside the source's freshness window, answered without
paying and without taking any lock.

`cache_answer()` runs before the locking path of `services.pull_request`. It reads (no row
lock), in one statement, the source's price and freshness window, the enterprise's branch, a
consent in force and the newest paid answer inside the window, each through an index. When
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
import json
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.selectors import visible_branch_ids
from apps.datahub.models import Consent, Pull
from apps.datahub.states import Channel, PullState
from apps.parties.models import Enterprise

_READ = """
WITH pol AS (
    SELECT DISTINCT ON (key) key, value FROM {policy}
    WHERE key IN (%(price_key)s, %(fresh_key)s) AND state <> %(draft)s
      AND effective_from <= %(today)s AND (effective_to IS NULL OR effective_to > %(today)s)
    ORDER BY key, version DESC)
SELECT e.branch_id, (SELECT value FROM pol WHERE key = %(price_key)s), c.id, p.id,
       p.fetched_at, p.format_version
FROM {enterprise} e
LEFT JOIN LATERAL (
    SELECT c.id FROM {consent} c
    WHERE c.enterprise_id = e.id AND c.person_id IS NULL AND c.purpose = %(purpose)s
      AND c.valid_from <= %(today)s AND c.valid_until >= %(today)s AND c.revoked_at IS NULL
      AND c.sources @> %(sources)s::jsonb
    ORDER BY c.valid_until DESC, c.id DESC LIMIT 1) c ON true
LEFT JOIN LATERAL (
    SELECT p.id, p.fetched_at, p.format_version FROM {pull} p
    WHERE p.enterprise_id = e.id AND p.source = %(source)s AND p.person_id IS NULL
      AND p.channel IN (%(http)s, %(file)s) AND p.state = %(succeeded)s
      AND p.fetched_at >= %(now)s - make_interval(
          secs => (SELECT value FROM pol WHERE key = %(fresh_key)s) * 3600)
    ORDER BY p.fetched_at DESC LIMIT 1) p ON true
WHERE e.id = %(enterprise)s
"""


def _read(*, enterprise_id: int, source: str, purpose: str, now) -> tuple | None:
    """(branch, price, consent, paid pull, its fetch time, its format version) in one
    statement: the two policy values the hit needs (`datahub.<source>.price` and
    `.freshness_hours`, the highest published or retired version in force, as `HubPolicy`
    reads them), the consent in force and the newest paid answer inside the freshness window.
    PostgreSQL only (LATERAL, jsonb containment)."""
    from apps.core.policy import PolicyVersionState
    from apps.investigations.models import PolicyValue

    sql = _READ.format(policy=PolicyValue._meta.db_table,
                       enterprise=Enterprise._meta.db_table,
                       consent=Consent._meta.db_table, pull=Pull._meta.db_table)
    params = {"price_key": f"datahub.{source}.price",
              "fresh_key": f"datahub.{source}.freshness_hours",
              "draft": PolicyVersionState.DRAFT, "today": timezone.localdate(now),
              "purpose": purpose, "sources": json.dumps([source]), "source": source,
              "http": Channel.HTTP, "file": Channel.FILE, "succeeded": PullState.SUCCEEDED,
              "now": now, "enterprise": enterprise_id}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def cache_answer(*, enterprise_id: int, source: str, purpose: str, actor,
                 application_id: int | None, person_id: int | None = None) -> Pull | None:
    """The cache pull answering this request, or None when the locking path must decide
    (no fresh answer, no consent, a policy value missing, out of scope, an application or a
    person to check: all refusals are that path's, so their errors stay in one place).

    Two reads: one statement (`_read`) and the viewer's branches; then one insert."""
    if application_id is not None or person_id is not None:
        return None   # the locking path checks the application or the person's link
    if connection.vendor != "postgresql":
        return None   # SQLite: the locking path answers from the cache as well
    now = timezone.now()
    row = _read(enterprise_id=enterprise_id, source=source, purpose=purpose, now=now)
    if row is None or None in row[:4]:
        return None
    branch_id, price, consent_id, paid_id, paid_at, paid_version = row
    branches = visible_branch_ids(viewer=actor)
    if branches is not None and branch_id not in branches:
        return None
    answered_by = Pull(pk=paid_id, fetched_at=paid_at, format_version=paid_version)
    pull = Pull(channel=Channel.CACHE, enterprise_id=enterprise_id, application_id=None,
                branch_id=branch_id, source=source, purpose=purpose, consent_id=consent_id,
                requested_by=actor, price=Decimal(price), audit_pending=True)
    with transaction.atomic():
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
