"""The scoring worker's per-process caches (issue #20, bench_scoring_worker): the published
decision policy by id and the policy values in force by their last change are read once per
process, and a publish or a new value still decides the very next score."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.core.policy import PolicyVersionState
from apps.investigations.models import PolicyValue
from apps.investigations.policy import PolicyResolver, policy_values_changed_at
from apps.scoring import services
from apps.scoring.models import ScoreResult
from apps.scoring.tests.failure_helpers import publish_max_attempts

pytestmark = pytest.mark.django_db
KEY = "test.scoring_cache.ratio"


def _changed_at():
    return (PolicyValue.all_versions.annotate(changed=policy_values_changed_at())
            .values_list("changed", flat=True).first())


def test_a_decision_policy_published_after_a_score_decides_the_next_one(world, investigated):
    first = services.application_score(application_id=investigated.pk)  # policy cached
    published = publish_max_attempts(world, 7)
    assert published.pk != first.policy_id
    ScoreResult.objects.filter(application_id=investigated.pk).delete()
    second = services.application_score(application_id=investigated.pk)
    assert second.policy_id == published.pk


def test_values_in_force_are_read_once_per_change_and_a_new_version_is_seen_at_once(
        django_assert_num_queries):
    PolicyValue.objects.create(key=KEY, value=Decimal("0.7"), unit="ratio", version=1,
                               effective_from=dt.date(2024, 1, 1), evidence="G")
    changed = _changed_at()
    assert PolicyResolver(changed_at=changed)(KEY) == Decimal("0.7")
    with django_assert_num_queries(0):  # same change: the values in force from the cache
        assert PolicyResolver(changed_at=changed)(KEY) == Decimal("0.7")
    # Written as another process would be seen: bulk_create sends no signal here, so only
    # the changed stamp tells the cache (and skips save(), which publishes a direct write).
    newer = PolicyValue(key=KEY, value=Decimal("0.8"), unit="ratio", version=2,
                        effective_from=dt.date(2024, 6, 1), evidence="G")
    newer.__dict__["state"] = PolicyVersionState.PUBLISHED
    PolicyValue.objects.bulk_create([newer])
    resolver = PolicyResolver(changed_at=_changed_at())
    assert resolver(KEY) == Decimal("0.8") and resolver.used == {KEY: 2}
