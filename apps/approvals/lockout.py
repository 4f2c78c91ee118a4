"""The limit on wrong passwords at sign-off (settings APPROVALS_SIGN_FAILURE_LIMIT within
APPROVALS_SIGN_FAILURE_WINDOW_MINUTES).

The failures are counted from the audit trail rather than a table of their own: every wrong
password is already recorded there (`approval.password_refused`, in a transaction of its own,
so it survives the refused request), the trail cannot be edited to reset a count, and one
record cannot disagree with another. The actor and action indexes keep the count cheap.

A signature or vote that counted (`approval.signed`, `committee.vote_cast`) clears the count:
the person has shown they know the password, and earlier slips should not lock them out later.
While locked, the password is not even checked, so guessing gains nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from apps.audit.models import AuditEvent

FAILURE_ACTION = "approval.password_refused"
LOCKED_ACTION = "approval.signing_locked"
SUCCESS_ACTIONS = ("approval.signed", "committee.vote_cast")


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.APPROVALS_SIGN_FAILURE_WINDOW_MINUTES)


def locked_until(actor, *, now=None) -> dt.datetime | None:
    """When `actor` may sign again, or None when they may sign now."""
    limit = settings.APPROVALS_SIGN_FAILURE_LIMIT
    if limit <= 0:
        return None
    now = now or timezone.now()
    since = now - _window()
    last_success = (AuditEvent.objects.filter(actor=actor, action__in=SUCCESS_ACTIONS,
                                              occurred_at__gt=since)
                    .order_by("-seq").values_list("occurred_at", flat=True).first())
    if last_success is not None:
        since = last_success
    failures = list(AuditEvent.objects.filter(actor=actor, action=FAILURE_ACTION,
                                              occurred_at__gt=since)
                    .order_by("-seq").values_list("occurred_at", flat=True)[:limit])
    if len(failures) < limit:
        return None
    # The lock lifts once the limit-th most recent failure leaves the window.
    return failures[-1] + _window()
