import pytest
from django.urls import reverse

from apps.oversight.models import DutyRuleSet

pytestmark = pytest.mark.django_db


def test_duty_rules_are_read_only_in_the_admin(world, client_as):
    """Issue 17: duty rules change only in the policy workbench, four-eyes and audited."""
    client = client_as("admin.north")
    in_force = DutyRuleSet.objects.get(version=1)
    page = client.get(reverse("admin:oversight_dutyruleset_change", args=[in_force.pk]))
    assert page.status_code == 200
    assert 'name="version"' not in page.content.decode()
    assert client.get(reverse("admin:oversight_dutyruleset_add")).status_code == 403
    refused = client.post(reverse("admin:oversight_dutyruleset_change", args=[in_force.pk]),
                          {"version": "9", "effective_from": "2099-01-01"})
    assert refused.status_code == 403
    in_force.refresh_from_db()
    assert in_force.version == 1
