"""Score failures in sentences, for the failed-scores page and the API (issue #20).

People read what went wrong and what to do next, never an exception's repr: the stored reason
code picks the sentence; only messages Credence itself wrote for people are quoted from the
record (`ScoreFailure.detail`). Dates are in the reader's time zone and locale format.
"""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.scoring.states import ScoreFailureReason, ScoreFailureState


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") \
        if value else ""


def reason_sentence(failure) -> str:
    """What kind of failure it was and what fixes it."""
    code = failure.reason_code
    if code == ScoreFailureReason.MODEL_INCOMPATIBLE:
        return failure.detail or _(
            "The champion model cannot read this application's inputs; promote a compatible "
            "model, then re-run.")
    if code == ScoreFailureReason.MODEL_UNAVAILABLE:
        return _("The champion model could not be loaded: its stored artefact is missing or "
                 "does not match its checksum. Check the model page, then re-run.")
    if code == ScoreFailureReason.POLICY_INVALID:
        return _("The decision policy in force could not be applied to this score; correct "
                 "the policy, then re-run.")
    if code == ScoreFailureReason.DATABASE:
        return _("The database was unavailable at every attempt; re-run once it is back.")
    if failure.detail:
        return failure.detail
    return _("An unexpected error stopped the scoring worker; the worker log has the details "
             "under this application's reference.")


def failure_sentence(failure) -> str:
    """One sentence saying which file, how many attempts, when, and the reason."""
    application = failure.application
    names = {"reference": application.reference, "enterprise": application.enterprise.name,
             "attempts": failure.attempts, "allowed": failure.max_attempts,
             "when": _when(failure.last_failed_at), "next": _when(failure.next_attempt_at),
             "resolved": _when(failure.resolved_at)}
    if failure.state == ScoreFailureState.FAILED:
        head = ngettext(
            "Application %(reference)s of %(enterprise)s could not be scored after "
            "%(attempts)d attempt; the last failed on %(when)s.",
            "Application %(reference)s of %(enterprise)s could not be scored after "
            "%(attempts)d attempts; the last failed on %(when)s.",
            failure.attempts) % names
    elif failure.state == ScoreFailureState.RETRYING:
        head = ngettext(
            "Application %(reference)s of %(enterprise)s failed to score %(attempts)d time "
            "of %(allowed)d allowed; it will be tried again around %(next)s.",
            "Application %(reference)s of %(enterprise)s failed to score %(attempts)d times "
            "of %(allowed)d allowed; it will be tried again around %(next)s.",
            failure.attempts) % names
    else:
        return ngettext(
            "Application %(reference)s of %(enterprise)s was scored on %(resolved)s after "
            "%(attempts)d failed attempt.",
            "Application %(reference)s of %(enterprise)s was scored on %(resolved)s after "
            "%(attempts)d failed attempts.",
            failure.attempts) % names
    return f"{head} {reason_sentence(failure)}"
