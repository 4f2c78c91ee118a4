"""The cache-hit path: a repeat question inside the source's freshness window, answered without
paying and without taking any lock.

`cache_answer()` runs before the locking path of `services.pull_request`. On PostgreSQL the
whole hit is one statement, INSERT … SELECT … RETURNING, taking no row lock: it reads the
source's price and freshness window (the policy values in force), the enterprise's branch
and whether the viewer's branch is it or above it, a consent in force and the newest paid
answer inside the window, each through an index, and inserts the cache `Pull` (channel
`cache`, state `succeeded`, `answered_by` the paid pull, `saved` its price, the officer as
`requested_by`: the fields `Pull.answer_from_cache` writes on the portable path). Nothing
found, nothing inserted: the locking path decides, and every refusal is its. Outside a
transaction the statement commits with `synchronous_commit = off` (set by the statement
itself): the commit does not wait for the WAL flush. A crash in the next fraction of a
second can lose such a row; it holds no money and no decision, only the saving of a query
that was not paid, so the cost report could under-count a saving, never over-count a spend.
On SQLite the locking path answers from the cache (`services.pull_open`).

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
import functools
import json
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.datahub.models import Consent, Pull
from apps.datahub.states import Channel, PullState
from apps.parties.models import Enterprise

# The whole hit in one statement: the two policy values in force, the viewer's scope (the
# enterprise's branch or one above it is the viewer's, unless the viewer sees every branch),
# the consent in force, the newest paid answer inside the freshness window, and the insert of
# the cache pull with the same fields as `Pull.answer_from_cache` writes. No row: nothing was
# inserted, the locking path decides.
_HIT = """
WITH RECURSIVE pol AS (
    SELECT DISTINCT ON (key) key, value FROM {policy}
    WHERE key IN (%(price_key)s, %(fresh_key)s) AND state <> %(draft)s
      AND effective_from <= %(today)s AND (effective_to IS NULL OR effective_to > %(today)s)
    ORDER BY key, version DESC),
up (id, parent_id) AS (
    SELECT b.id, b.parent_id FROM {branch} b JOIN {enterprise} e ON e.branch_id = b.id
    WHERE e.id = %(enterprise)s
    UNION
    SELECT b.id, b.parent_id FROM {branch} b JOIN up ON b.id = up.parent_id)
INSERT INTO {pull} (query_id, created_at, updated_at, enterprise_id, person_id,
    application_id, branch_id, source, purpose, channel, consent_id, requested_by_id,
    answered_by_id, state, price, cost, saved, budget_warning, format_version, attempts,
    claimed_until, fetched_at, finished_at, error_code, error_field, error_detail,
    raw_content_type, raw_body, changes, audit_pending, content_sha256)
SELECT %(query_id)s, %(now)s, %(now)s, e.id, NULL, NULL, e.branch_id, %(source)s, %(purpose)s,
    %(cache)s, c.id, %(actor)s, p.id, %(succeeded)s, pr.value, 0, pr.value, false,
    p.format_version, 0, NULL, p.fetched_at, %(now)s, '', '', '', '', '', '[]'::jsonb, true, ''
    {sync_off}
FROM {enterprise} e
JOIN pol pr ON pr.key = %(price_key)s
JOIN LATERAL (
    SELECT c.id FROM {consent} c
    WHERE c.enterprise_id = e.id AND c.person_id IS NULL AND c.purpose = %(purpose)s
      AND c.valid_from <= %(today)s AND c.valid_until >= %(today)s AND c.revoked_at IS NULL
      AND c.sources @> %(sources)s::jsonb
    ORDER BY c.valid_until DESC, c.id DESC LIMIT 1) c ON true
JOIN LATERAL (
    SELECT p.id, p.fetched_at, p.format_version FROM {pull} p
    WHERE p.enterprise_id = e.id AND p.source = %(source)s AND p.person_id IS NULL
      AND p.channel IN (%(http)s, %(file)s) AND p.state = %(succeeded)s
      AND p.fetched_at >= %(now)s - make_interval(
          secs => (SELECT value FROM pol WHERE key = %(fresh_key)s) * 3600)
    ORDER BY p.fetched_at DESC LIMIT 1) p ON true
WHERE e.id = %(enterprise)s
  AND (%(all_branches)s OR EXISTS (SELECT 1 FROM up WHERE up.id = %(viewer_branch)s))
RETURNING {returning}
"""

# Only outside a transaction: inside one, the setting would reach the caller's whole commit.
_SYNC_OFF = """FROM (SELECT set_config('synchronous_commit', 'off', true)) AS sync_off,
    {enterprise} e"""


@functools.cache
def _hit_sql(*, sync_off: bool) -> tuple[str, list[str]]:
    """The statement's text and the attribute names of its RETURNING columns (built once per
    process: the tables do not change while it runs)."""
    from apps.investigations.models import PolicyValue
    from apps.org.models import Branch

    columns = [f.column for f in Pull._meta.concrete_fields]
    enterprise = Enterprise._meta.db_table
    sql = _HIT.format(policy=PolicyValue._meta.db_table, branch=Branch._meta.db_table,
                      enterprise=enterprise, consent=Consent._meta.db_table,
                      pull=Pull._meta.db_table, returning=", ".join(columns), sync_off="")
    if sync_off:
        sql = sql.replace(f"FROM {enterprise} e\nJOIN pol",
                          _SYNC_OFF.format(enterprise=enterprise) + "\nJOIN pol", 1)
    return sql, [f.attname for f in Pull._meta.concrete_fields]


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class Preparing(ServerBindingCursor):
        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params, prepare=True, **kwargs)

        def _convert_query(self, query, params=None):
            # Kept where Django's query log reads the text sent ($1 … placeholders).
            self._query = converted = super()._convert_query(query, params)
            return converted

    return Preparing


@functools.cache
def _converters() -> list:
    """Per RETURNING column, the field's `from_db_value` or None (looked up once)."""
    return [getattr(field, "from_db_value", None) for field in Pull._meta.concrete_fields]


def _cursor():
    """A cursor for the hit: Django's own (logged, wrapped as usual), but binding on the server
    and preparing the statement once per connection, so a hit is not planned again each time
    (planning is most of the statement's time). Setting `DATAHUB_CACHE_HIT_PREPARED = False`
    gives the plain cursor back (a connection pooler that cannot keep prepared statements)."""
    if not getattr(settings, "DATAHUB_CACHE_HIT_PREPARED", True):
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns automatic preparing off (None also refuses prepare=True); its own
        # client-binding cursors never prepare, so only this cursor's statement is.
        raw.prepare_threshold = 2**31 - 1
    return connection._prepare_cursor(_preparing_cursor_class()(raw))


def cache_answer(*, enterprise_id: int, source: str, purpose: str, actor,
                 application_id: int | None, person_id: int | None = None) -> Pull | None:
    """The cache pull answering this request, or None when the locking path must decide
    (no fresh answer, no consent, a policy value missing, out of scope, an application or a
    person to check: all refusals are that path's, so their errors stay in one place).

    On PostgreSQL one statement (`_HIT`: INSERT … SELECT … RETURNING), once the actor's roles
    are known (`User.roles`, cached for the request). SQLite: None, the locking path answers
    from the cache as well (`services.pull_open`)."""
    from apps.core.policy import PolicyVersionState

    if application_id is not None or person_id is not None:
        return None   # the locking path checks the application or the person's link
    if connection.vendor != "postgresql":
        return None
    if not actor.sees_all_branches and actor.branch_id is None:
        return None   # sees no branch: the locking path refuses
    now = timezone.now()
    sql, attnames = _hit_sql(sync_off=not connection.in_atomic_block)
    params = {"price_key": f"datahub.{source}.price",
              "fresh_key": f"datahub.{source}.freshness_hours",
              "draft": PolicyVersionState.DRAFT, "today": timezone.localdate(now),
              "purpose": purpose, "sources": json.dumps([source]), "source": source,
              "http": Channel.HTTP, "file": Channel.FILE, "cache": Channel.CACHE,
              "succeeded": PullState.SUCCEEDED, "now": now, "enterprise": enterprise_id,
              "query_id": uuid.uuid4(), "actor": actor.pk,
              "all_branches": actor.sees_all_branches, "viewer_branch": actor.branch_id}
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    pull = Pull.from_db(connection.alias, attnames, [
        value if convert is None else convert(value, None, connection)
        for convert, value in zip(_converters(), row, strict=True)])
    pull.requested_by = actor
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
