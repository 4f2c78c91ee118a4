"""Four-eyes on the decision policy: a drafted version is in force only once someone else
publishes it (issue 6)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.scoring import services
from apps.scoring.policy import DEFAULT_POLICY

pytestmark = pytest.mark.django_db


def test_a_drafted_policy_waits_for_another_person_to_publish_it(world):
    seeded = services.decision_policy_ensure()
    assert seeded.published_at is not None and services.decision_policy_in_force() == seeded
    drafter, other = world.user("reviewer.north"), world.user("admin.north")
    draft = services.decision_policy_create(
        document={**DEFAULT_POLICY, "psi_alert": 0.2}, actor=drafter,
        effective_from=dt.date.today() - dt.timedelta(days=1))
    assert services.decision_policy_in_force() == seeded  # a draft decides nothing

    with pytest.raises(PermissionDenied, match="drafted a version cannot publish"):
        services.decision_policy_publish(policy_id=draft.pk, actor=drafter)
    with pytest.raises(PermissionDenied):
        services.decision_policy_publish(policy_id=draft.pk, actor=world.user("am.north"))
    assert services.decision_policy_in_force() == seeded

    published = services.decision_policy_publish(policy_id=draft.pk, actor=other)
    assert published.published_by == other and services.decision_policy_in_force() == draft
    event = AuditEvent.objects.get(action="decision_policy.published", actor=other)
    assert event.actor_id == other.pk and event.payload["drafted_by"] == drafter.pk
    with pytest.raises(TransitionConflict):
        services.decision_policy_publish(policy_id=draft.pk, actor=other)
