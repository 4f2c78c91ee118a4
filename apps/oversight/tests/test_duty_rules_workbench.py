"""Due-diligence duty rules in the policy workbench (issue 17): draft as a copy, duties
edited with field errors in both languages and nothing half-saved, diff in sentences, what the
draft changes in recent files' evidence packs, four-eyes publish, retire, YAML/JSON round-trip,
refusals for other roles."""

import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.audit.models import AuditEvent
from apps.core.policy import PolicyVersionState as S
from apps.oversight import duty_rule_services as services
from apps.oversight.duties import build_pack
from apps.oversight.duty_rules_workbench import duty_rules_diff, duty_rules_preview
from apps.oversight.models import DutyRuleSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(world):
    sync_role_groups()
    group = Group.objects.get(name=Role.POLICY_OFFICER)
    made = []
    for name in ("policy.one", "policy.two"):
        user = User.objects.create_user(username=name, password="x",  # noqa: S106
                                        branch=world.north)
        user.groups.add(group)
        made.append(User.objects.get(pk=user.pk))
    return made


def _visit_post(rule, **changes):
    data = {"code": rule.code, "label_en": rule.label_en, "label_zh": rule.label_zh,
            "evaluator": rule.evaluator, "parameters": "min_officers: 2", "order": rule.order}
    data.update(changes)
    return data


def test_a_draft_copies_the_rules_in_force(officers):
    in_force = DutyRuleSet.objects.get(version=1)
    draft = services.duty_rule_set_draft_next(actor=officers[0])

    assert (draft.version, draft.state, draft.created_by) == (2, S.DRAFT, officers[0])
    assert duty_rules_diff(draft=draft, in_force=in_force) == []


def test_a_stricter_duty_shows_which_decided_files_it_would_fail(client, world, officers):
    application = world.in_state("disbursed")
    draft = services.duty_rule_set_draft_next(actor=officers[0])
    visit = draft.rules.get(code="two-officer-visit")
    client.force_login(officers[0])

    saved = client.post(reverse("oversight:duty-rule", args=[visit.pk]),
                        _visit_post(visit, parameters="min_officers: 3"))

    assert saved.status_code == 302
    examined, changes = duty_rules_preview(viewer=officers[1], draft=draft)
    assert examined >= 1
    change = next(c for c in changes if c.application.pk == application.pk)
    assert change.changes == ["two-officer-visit Fulfilled → Not fulfilled"]
    assert any("min_officers 3" in line for line in duty_rules_diff(
        draft=draft, in_force=DutyRuleSet.objects.get(version=1)))
    page = client.get(reverse("oversight:duty-rules", args=[draft.pk])).content.decode()
    assert application.reference in page
    assert build_pack(application).rule_set.version == 1  # the draft decides nothing yet


def test_bad_duties_get_field_errors_in_both_languages(client, officers):
    draft = services.duty_rule_set_draft_next(actor=officers[0])
    visit = draft.rules.get(code="two-officer-visit")
    client.force_login(officers[0])
    url = reverse("oversight:duty-rule", args=[visit.pk])

    english = client.post(url, _visit_post(visit, evaluator="no_such", parameters="[1, 2]"))
    chinese = client.post(url, _visit_post(visit, code=""), HTTP_ACCEPT_LANGUAGE="zh-hans")
    unreadable = client.post(url, _visit_post(visit, parameters="a: [unclosed"))

    assert english.status_code == 400
    assert "Select a valid choice" in english.content.decode()
    assert "Parameters are an object" in english.content.decode()
    assert chinese.status_code == 400 and "该字段是必填项" in chinese.content.decode()
    assert unreadable.status_code == 400 and "neither YAML nor JSON" in \
        unreadable.content.decode()
    visit.refresh_from_db()
    assert visit.parameters == {"min_officers": 2}


def test_four_eyes_publish_then_retire(client, officers):
    in_force = DutyRuleSet.objects.get(version=1)
    draft = services.duty_rule_set_draft_next(actor=officers[0])
    today = timezone.localdate().isoformat()
    publish = reverse("oversight:duty-rules-publish", args=[draft.pk])
    client.force_login(officers[0])

    refused = client.post(publish, {"effective_from": today})

    assert refused.status_code == 403 and "Four-eyes rule" in refused.content.decode()
    client.force_login(officers[1])
    assert client.post(publish, {"effective_from": today}).status_code == 302
    draft.refresh_from_db()
    in_force.refresh_from_db()
    assert (draft.state, in_force.state) == (S.PUBLISHED, S.RETIRED)
    assert AuditEvent.objects.filter(action="duty_rule_set.published").count() == 1
    rule = draft.rules.first()
    frozen = client.post(reverse("oversight:duty-rule", args=[rule.pk]),
                         _visit_post(rule, label_en="changed"))
    assert frozen.status_code == 409
    assert client.post(reverse("oversight:duty-rules-retire", args=[draft.pk]),
                       {"effective_to": today, "reason": "replaced"}).status_code == 302


def test_export_and_import_round_trip(client, officers):
    in_force = DutyRuleSet.objects.get(version=1)
    client.force_login(officers[0])
    for fmt in ("yaml", "json"):
        exported = client.get(reverse("oversight:duty-rules-export", args=[in_force.pk, fmt]))
        assert exported.status_code == 200
        upload = io.BytesIO(exported.content)
        upload.name = f"duties.{fmt}"
        assert client.post(reverse("oversight:duty-rules-import"),
                           {"document": upload}).status_code == 302
        copy = DutyRuleSet.objects.order_by("-version").first()
        assert copy.state == S.DRAFT and duty_rules_diff(draft=copy, in_force=in_force) == []
    bad = io.BytesIO(b"format: credence.duty-rules/1\nrules:\n- code: x\n  evaluator: nope\n")
    bad.name = "bad.yaml"
    before = DutyRuleSet.objects.count()
    refused = client.post(reverse("oversight:duty-rules-import"), {"document": bad})
    assert refused.status_code == 400 and "rules.0.evaluator" in refused.content.decode()
    assert DutyRuleSet.objects.count() == before


@pytest.mark.parametrize("username", ["am.north", "reviewer.north", "admin.north",
                                      "auditor.north"])
def test_other_roles_are_refused(client, world, officers, username):
    draft = services.duty_rule_set_draft_next(actor=officers[0])
    client.force_login(world.user(username))
    for response in (
            client.get(reverse("oversight:duty-rules-list")),
            client.get(reverse("oversight:duty-rules", args=[draft.pk])),
            client.post(reverse("oversight:duty-rules-next")),
            client.post(reverse("oversight:duty-rules-publish", args=[draft.pk]),
                        {"effective_from": timezone.localdate().isoformat()}),
    ):
        assert response.status_code == 403
