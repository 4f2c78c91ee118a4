"""Bulk jobs at scale (issue 23): one portfolio re-score at a time, and per-user limits.

Single flight. A portfolio re-score reads every application's snapshot and writes a result per
application: two at once would double the load on the database and the bulk workers and write
the same rows twice. `rescoring_start` therefore takes a transaction-scoped PostgreSQL advisory
lock (every web process and host sees the same lock: it lives in the database, not in Python)
and, under it, looks for a queued or running job: a request for the same model version joins
that job (its id comes back); one for another version is refused with 409 until it ends. On
SQLite (embedded runs only) writers are serialised by its IMMEDIATE transactions.

Per-user limit. Each person may start at most `bulk.rescoring.per_user_per_hour` re-scores in
any hour (policy data, seeded as a design default; no row means no limit). Counted from the
jobs table, so every web process agrees; refused with 429 and the JSON error shape, with
Retry-After. A joined job starts nothing and is not counted.
"""

from __future__ import annotations

import datetime as dt
import zlib
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status

from apps.core.exceptions import DomainError
from apps.scoring.models import RescoringJob
from apps.scoring.states import RescoringJobState

ACTIVE_STATES = (RescoringJobState.QUEUED, RescoringJobState.RUNNING)
RESCORING_RATE_KEY = "bulk.rescoring.per_user_per_hour"
RATE_WINDOW = dt.timedelta(hours=1)
# One 64-bit key for the whole portfolio: a stable number derived from the name.
_RESCORING_LOCK = zlib.crc32(b"credence.scoring.rescoring.single_flight")

# (key, value, unit, evidence, effective from, citation, description en, description zh)
POLICY = [
    (RESCORING_RATE_KEY, "6", "jobs/hour", "G", dt.date(2024, 1, 1),
     "Design default (issue 23): a re-score of the whole portfolio takes minutes; more than a "
     "few an hour from one person is a mistake or a script",
     "How many portfolio re-scores one person may start in any hour (joining a running one "
     "does not count).",
     "每人每小时最多可发起的组合重新评分次数（加入正在运行的任务不计）。"),
]


class RescoringBusy(DomainError):
    """Another re-score (with another model version) is queued or running (HTTP 409)."""

    code = "rescoring_running"
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("A portfolio re-scoring is already running; wait until it "
                                  "ends.")


class BulkRateLimited(DomainError):
    """The person has started as many bulk jobs as the policy allows this hour (HTTP 429)."""

    code = "rate_limited"
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = gettext_lazy("You have started as many re-scorings as allowed for now.")

    def __init__(self, detail: str | None = None, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


def rescoring_single_flight_lock() -> None:
    """Serialise every start of a re-score until the caller's transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RESCORING_LOCK])


def rescoring_active() -> RescoringJob | None:
    """The queued or running re-score, if any (the oldest, should there be more)."""
    return (RescoringJob.objects.select_related("model_version")
            .filter(state__in=ACTIVE_STATES).order_by("pk").first())


def _policy_limit(key: str) -> Decimal | None:
    from apps.investigations.policy import PolicyResolver

    return PolicyResolver()(key)


def rescoring_rate_check(*, actor, now: dt.datetime | None = None) -> None:
    """Raise BulkRateLimited when `actor` started the policy's number of re-scores within the
    last hour; Retry-After is when the oldest of them leaves the window."""
    limit = _policy_limit(RESCORING_RATE_KEY)
    if limit is None:
        return
    now = now or timezone.now()
    recent = list(RescoringJob.objects.filter(requested_by=actor,
                                              created_at__gt=now - RATE_WINDOW)
                  .order_by("created_at").values_list("created_at", flat=True))
    if len(recent) < int(limit):
        return
    oldest = recent[len(recent) - int(limit)] if int(limit) > 0 else now
    retry_after = max(1, int((oldest + RATE_WINDOW - now).total_seconds()) + 1)
    raise BulkRateLimited(
        _("You may start %(n)s portfolio re-scorings an hour; try again in %(minutes)s "
          "minutes.") % {"n": int(limit), "minutes": max(1, round(retry_after / 60))},
        retry_after=retry_after)


def seed_bulk_policy() -> int:
    """Create each policy row once (version 1); existing keys are left as the bank set them."""
    from apps.investigations.models import PolicyValue

    created = 0
    for key, value, unit, evidence, since, citation, text_en, text_zh in POLICY:
        _row, was_created = PolicyValue.objects.get_or_create(
            key=key, version=1, defaults={
                "value": Decimal(value), "unit": unit, "evidence": evidence,
                "effective_from": since, "source_citation": citation[:300],
                "description_en": text_en[:300], "description_zh": text_zh[:300]})
        created += was_created
    return created


def _after_migrate(sender, **kwargs) -> None:
    seed_bulk_policy()


def register_seed(app_config) -> None:
    from django.db.models.signals import post_migrate

    post_migrate.connect(_after_migrate, sender=app_config,
                         dispatch_uid="scoring.seed_bulk_policy")
