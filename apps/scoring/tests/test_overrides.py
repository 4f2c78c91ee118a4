import pytest
from django.core.exceptions import ValidationError

from apps.audit.models import AuditEvent
from apps.scoring import services
from apps.scoring.models import ScoreOverride, ScoreResult
from apps.scoring.selectors import override_rates
from apps.scoring.services.overrides import NoScore

pytestmark = pytest.mark.django_db


def test_decisions_against_the_advice_need_a_reason_and_are_counted(world):
    rejected = world.in_state("rejected")
    approver = rejected.decided_by
    with pytest.raises(NoScore):
        services.score_override_record(application_id=rejected.pk, decision="decline",
                                       reason="", actor=approver)
    result = services.application_score(application_id=rejected.pk)
    ScoreResult.objects.filter(pk=result.pk).update(recommendation="approve")
    with pytest.raises(ValidationError):
        services.score_override_record(application_id=rejected.pk, decision="decline",
                                       reason="  ", actor=approver)
    override = services.score_override_record(  # the approvals app says "reject"
        application_id=rejected.pk, decision="reject", actor=approver,
        reason="Declared revenue not supported by tax records.")
    assert override.recommendation == "approve" and override.decision == "decline"
    assert override.officer == rejected.account_manager
    event = AuditEvent.objects.get(action="score.overridden")
    assert event.payload["side"] == "high_side" and event.actor_id == approver.pk

    rates = override_rates(viewer=world.user("reviewer.north"))
    assert rates["approvers"] == [{"user_id": approver.pk, "name": approver.username,
                                   "decisions": 1, "overrides": 1, "rate": 1.0}]
    assert rates["officers"][0]["name"] == "am.north" and rates["officers"][0]["rate"] == 1.0


def test_agreeing_with_the_advice_or_a_referral_is_not_an_override(investigated, world):
    result = services.application_score(application_id=investigated.pk)
    reviewer = world.user("reviewer.north")
    for recommendation, decision in (("approve", "approve"), ("decline", "decline"),
                                     ("refer", "approve"), ("refer", "decline")):
        ScoreResult.objects.filter(pk=result.pk).update(recommendation=recommendation)
        assert services.score_override_record(application_id=investigated.pk,
                                              decision=decision, reason="",
                                              actor=reviewer) is None
    assert not ScoreOverride.objects.exists()
