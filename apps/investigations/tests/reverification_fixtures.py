"""A north investigation sampled for re-verification and assigned to lead.north.

Built directly rather than through acceptance (the sampling itself is tested in
controls/test_control_workflow.py): these tests are about the pages and the API."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.investigations.models import Investigation, ReVerification

ACCEPTED_AT = timezone.make_aware(timezone.datetime(2026, 3, 14, 10, 30))


@pytest.fixture
def sampled(world, assigned):
    Investigation.objects.filter(pk=assigned.pk).update(accepted_at=ACCEPTED_AT)
    return ReVerification.objects.create(investigation=assigned,
                                         assigned_to=world.user("lead.north"),
                                         sample_rate=Decimal("0.05"), draw=Decimal("0.01"))
