"""Auditors' reads of the trail. Every one starts with `require_auditor(viewer)`.

Auditors see every branch (ALL_BRANCH_ROLES), so the scope is the role, not a branch list.
"""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.oversight.access import require_auditor


def _day_start(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time.min))


def application_events_q(application_id: int) -> Q:
    """Events of the application: those scoped to it at write time, and, for events written
    before the scope columns existed, those whose subject is the application itself."""
    return Q(application_id=application_id) | Q(subject_type="applications.application",
                                                subject_id=str(application_id))


def audit_event_list(*, viewer, filters: dict | None = None) -> QuerySet[AuditEvent]:
    """Events matching the filters (see EventFilterForm.as_filters), ordered by seq, for an
    auditor or administrator (403 for anyone else)."""
    require_auditor(viewer)
    return audit_events_matching(filters=filters)


def audit_events_matching(*, filters: dict | None = None) -> QuerySet[AuditEvent]:
    """The same, unscoped: for system callers only (verify_export, run by an operator who
    already holds database access; the export worker after checking the requester).

    Filters hit the (column, seq) indexes, so a page of the newest matches is an index range
    scan whatever the table size; dates are local days, end day inclusive.
    """
    filters = filters or {}
    events = AuditEvent.objects.all()
    if filters.get("application_id") is not None:
        events = events.filter(application_events_q(int(filters["application_id"])))
    for key in ("enterprise_id", "branch_id", "actor_id"):
        if filters.get(key) is not None:
            events = events.filter(**{key: int(filters[key])})
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("date_from"):
        events = events.filter(occurred_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        events = events.filter(
            occurred_at__lt=_day_start(filters["date_to"]) + dt.timedelta(days=1))
    if filters.get("max_seq") is not None:
        events = events.filter(seq__lte=int(filters["max_seq"]))
    return events.order_by("seq")


def audit_event_page(*, viewer, filters: dict | None = None, before_seq: int | None = None,
                     size: int = 50) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, and the seq to continue from (None on the last page).

    Keyset paging on seq instead of OFFSET/COUNT: the cost stays the same on page 1 and page
    10,000 of a ten-million-row trail. Two queries whatever the page size (events with their
    actors, then nothing else: labels and branches are resolved by the view in one query).
    """
    events = audit_event_list(viewer=viewer, filters=filters).select_related("actor")
    if before_seq is not None:
        events = events.filter(seq__lt=before_seq)
    rows = list(events.order_by("-seq")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].seq if more and rows else None)
