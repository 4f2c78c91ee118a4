"""Issue 17, post-loan policy data: the inspection schedule and the early-warning thresholds
are `PolicyValue`s, so the policy-value workbench is where they change. A policy officer drafts
the next version, a second one publishes it, and the schedule and the signal rules read it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.policy import PolicyVersionState as S
from apps.investigations.models import PolicyValue
from apps.investigations.policy import PolicyResolver
from apps.investigations.tests.test_policy_workbench import officers  # noqa: F401
from apps.monitoring.policy import K
from apps.monitoring.schedule_policy import FIRST_DAYS, SchedulePolicy, seed_schedule_policies
from apps.monitoring.seed import seed_monitoring

pytestmark = pytest.mark.django_db


def _draft_and_publish(client, officers, key: str, value: str) -> PolicyValue:  # noqa: F811
    drafter, checker = officers
    today = timezone.localdate()
    current = PolicyValue.objects.get(key=key)
    client.force_login(drafter)
    listing = client.get(reverse("investigations:policy-values"))
    assert listing.status_code == 200 and key in listing.content.decode()
    started = client.post(reverse("investigations:policy-value-next", args=[current.pk]))
    draft = PolicyValue.all_versions.get(key=key, state=S.DRAFT)
    assert started.url == reverse("investigations:policy-value", args=[draft.pk])
    saved = client.post(reverse("investigations:policy-value", args=[draft.pk]), {
        "value": value, "unit": current.unit, "effective_from": today.isoformat(),
        "evidence": "M", "source_citation": "Post-loan manual 2026", "description_en": "",
        "description_zh": ""})
    assert saved.status_code == 302
    refused = client.post(reverse("investigations:policy-value-publish", args=[draft.pk]),
                          {"effective_from": today.isoformat()})
    assert refused.status_code == 403  # four-eyes: the drafter never publishes
    client.force_login(checker)
    published = client.post(reverse("investigations:policy-value-publish", args=[draft.pk]),
                            {"effective_from": today.isoformat()})
    assert published.status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.value, draft.published_by) == (S.PUBLISHED, Decimal(value),
                                                              checker)
    return draft


def test_an_inspection_schedule_value_is_drafted_and_published_in_the_workbench(
        client, officers):  # noqa: F811
    seed_schedule_policies()
    before = SchedulePolicy.in_force(timezone.localdate()).get(FIRST_DAYS)

    version = _draft_and_publish(client, officers, FIRST_DAYS, "10")

    assert before == 15 and version.version == 2
    assert SchedulePolicy.in_force(timezone.localdate()).get(FIRST_DAYS) == 10
    # A loan disbursed last year is still explained by the value of its day.
    assert SchedulePolicy.in_force(dt.date(2025, 6, 1)).get(FIRST_DAYS) == 15


def test_an_early_warning_threshold_is_drafted_and_published_in_the_workbench(
        client, officers):  # noqa: F811
    seed_monitoring()

    _draft_and_publish(client, officers, K.W07_DROP, "0.25")

    assert PolicyResolver()(K.W07_DROP) == Decimal("0.25")
    assert PolicyResolver(on=dt.date(2025, 6, 1))(K.W07_DROP) == Decimal("0.30")
