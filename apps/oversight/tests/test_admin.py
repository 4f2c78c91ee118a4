import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.oversight.models import DutyRuleSet

pytestmark = pytest.mark.django_db


def test_admin_adds_a_rule_set_version_audited_and_the_one_in_force_is_read_only(world,
                                                                                 client_as):
    client = client_as("admin.north")
    in_force = DutyRuleSet.objects.get(version=1)
    page = client.get(reverse("admin:oversight_dutyruleset_change", args=[in_force.pk]))
    assert page.status_code == 200
    assert 'name="version"' not in page.content.decode()  # read-only once in force
    response = client.post(reverse("admin:oversight_dutyruleset_add"), {
        "version": "2", "effective_from": "2099-01-01", "source_citation": "board minute 7",
        "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000", "rules-0-order": "1", "rules-0-code": "visit",
        "rules-0-label_en": "Visit", "rules-0-label_zh": "走访",
        "rules-0-evaluator": "two_officer_visit", "rules-0-parameters": '{"min_officers": 2}'})
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="duty_rules.changed")
    assert event.payload["version"] == 2 and event.payload["rules"][0]["code"] == "visit"
    assert client_as("auditor.north").get(
        reverse("admin:oversight_dutyruleset_add")).status_code in (302, 403)
