"""Decisions against the score's recommendation (domain reference §7.2 step 6: record low-side
and high-side overrides with reasons, and monitor the override rate, target < 5–10% [G])."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.applications.selectors import application_get
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError
from apps.scoring.models import ScoreOverride
from apps.scoring.selectors import latest_score
from apps.scoring.states import Decision, Recommendation

# Which decision goes against which recommendation; "refer" asks for people, so no decision
# after a referral overrides anything.
_AGAINST = {(Recommendation.APPROVE, Decision.DECLINE): "high_side",
            (Recommendation.DECLINE, Decision.APPROVE): "low_side"}


# The approvals app's decision codes, mapped onto the score's vocabulary.
_ALIASES = {"reject": Decision.DECLINE, "rejected": Decision.DECLINE,
            "approved": Decision.APPROVE}


class NoScore(DomainError):
    code = "no_score"
    status_code = 409


def is_override(recommendation: str, decision: str) -> bool:
    return (recommendation, decision) in _AGAINST


@transaction.atomic
def score_override_record(*, application_id: int, decision: str, reason: str,
                          actor) -> ScoreOverride | None:
    """Record a decision that goes against the latest score's recommendation, with its reason.

    Called by the approvals app inside its decision's transaction. Returns None when the
    decision agrees with the recommendation (or the score referred the file): nothing to count.
    A decision against the advice without a reason is refused (400), so the decision itself
    rolls back with it.
    """
    decision = _ALIASES.get(decision, decision)
    if decision not in Decision.values:
        raise ValidationError({"decision": _("Unknown decision.")})
    application = application_get(viewer=actor, application_id=application_id)
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied
    latest = latest_score(application_id=application_id)  # the champion's, never a shadow
    if latest is None:
        raise NoScore(_("The application has no score to compare the decision with."))
    if not is_override(latest.recommendation, decision):
        return None
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A decision against the score's recommendation "
                                           "needs a reason.")})
    override = ScoreOverride.objects.create(
        application_id=application_id, score_result=latest,
        recommendation=latest.recommendation, decision=decision, reason=reason,
        decided_by=actor, officer_id=application.account_manager_id)
    audit_record(action="score.overridden", actor=actor, subject=application, payload={
        "score_result": latest.pk, "recommendation": latest.recommendation,
        "decision": decision, "side": _AGAINST[(latest.recommendation, decision)],
        "reason": reason, "grade": latest.grade})
    return override
