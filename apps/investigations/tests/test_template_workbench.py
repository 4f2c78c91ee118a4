"""Checklist templates in the policy workbench (issue 17): draft as a copy, edit the whole
document with errors by path in both languages and nothing half-saved, the live rule check, diff
in sentences, a dry run of the draft's rules over recent investigations, four-eyes publish,
retire, YAML/JSON round-trip, refusals for other roles."""

import io
import json

import pytest
import yaml
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.applications import services as app_services
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.core.policy import PolicyVersionState as S
from apps.investigations import services, workflow
from apps.investigations.models import ChecklistTemplate
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.template_preview import template_diff, template_dry_run
from apps.investigations.tests.factories import template_data

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


@pytest.fixture
def published():
    template = services.template_import(template_data())
    return services.template_publish(template_id=template.pk)


def _document(template, **changes) -> str:
    data = services.template_editable_document(template)
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _draft(published, officer):
    return services.template_draft_next(template_id=published.pk, actor=officer)


def test_a_draft_starts_as_a_copy_and_differs_in_nothing(published, officers):
    draft = _draft(published, officers[0])

    assert (draft.code, draft.version, draft.state, draft.created_by) == (
        "mini", 2, S.DRAFT, officers[0])
    assert template_diff(draft=services.template_export(draft),
                         in_force=services.template_export(published)) == []
    assert draft.items.count() == published.items.count()


def test_editing_checks_every_rule_and_saves_nothing_on_refusal(client, published, officers):
    draft = _draft(published, officers[0])
    client.force_login(officers[0])
    url = reverse("investigations:template", args=[draft.pk])
    data = services.template_editable_document(draft)
    data["sections"][0]["items"][3]["red_flag_rules"][0]["when"] = "LEVERAGE > NOPE"
    data["sections"][0]["items"][0]["label"] = {"en": "Annual sales", "zh": "年销售额"}

    refused = client.post(url, {"document": yaml.safe_dump(data, allow_unicode=True)})

    assert refused.status_code == 400
    body = refused.content.decode()
    assert "items.LEVERAGE.red_flag_rules[0].when" in body
    assert "NOPE" in body
    draft.refresh_from_db()
    assert draft.items.get(code="SALES").label_en == "Sales"  # nothing half-saved
    chinese = client.post(url, {"document": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400
    assert "该字段是必填项" in chinese.content.decode()
    english = client.post(url, {"document": "sections: [unclosed"})
    assert "neither YAML nor JSON" in english.content.decode()


def test_a_valid_edit_is_saved_audited_and_described_in_sentences(client, published, officers):
    draft = _draft(published, officers[0])
    client.force_login(officers[0])
    data = services.template_editable_document(draft)
    items = data["sections"][0]["items"]
    items[3]["red_flag_rules"][0]["severity"] = "R3"
    items.append({"code": "STAFF", "answer_type": "number", "unit": "persons",
                  "label": {"en": "Staff", "zh": "员工人数"},
                  "red_flag_rules": [{"code": "TINY", "when": "STAFF < 2", "severity": "R1",
                                      "message": {"en": "One-person firm", "zh": "一人企业"}}]})
    del items[5]  # KIND

    saved = client.post(reverse("investigations:template", args=[draft.pk]),
                        {"document": yaml.safe_dump(data, allow_unicode=True)})

    assert saved.status_code == 302
    assert draft.items.filter(code="STAFF").exists() and not draft.items.filter(
        code="KIND").exists()
    assert AuditEvent.objects.filter(action="checklist_template.changed").count() == 1
    lines = template_diff(draft=services.template_export(draft),
                          in_force=services.template_export(published))
    assert "Item LEVERAGE, red flag LEV_HIGH changes severity from R2 to R3." in lines
    assert any(line.startswith("New item STAFF") for line in lines)
    assert any(line.startswith("Item KIND") and "dropped" in line for line in lines)
    page = client.get(reverse("investigations:template", args=[draft.pk]))
    assert "changes severity from R2 to R3" in page.content.decode()


def test_the_live_check_reports_problems_without_saving(client, published, officers):
    draft = _draft(published, officers[0])
    client.force_login(officers[0])
    url = reverse("investigations:template-check", args=[draft.pk])
    data = services.template_editable_document(draft)

    clean = client.post(url, {"document": yaml.safe_dump(data, allow_unicode=True)})
    data["cross_checks"][0]["expression"] = "deviation(SALES, "
    broken = client.post(url, {"document": yaml.safe_dump(data, allow_unicode=True)})

    assert 'data-valid="true"' in clean.content.decode()
    assert "cross_checks.SALES_X.expression" in broken.content.decode()
    assert draft.cross_checks.get().expression == "deviation(SALES, TAX_SALES)"


def _answered_investigation(world, sales, tax_sales):
    seed_builtin_templates()
    application = app_services.application_start_investigation(
        application_id=world.in_state(ApplicationState.SUBMITTED).pk,
        actor=world.user("am.north"))
    investigation = workflow.investigation_assign(
        application_id=application.pk, lead_officer=world.user("am.north"),
        assisting_officer=world.user("assistant.north"), actor=world.user("am.north"),
        template_code="mini")
    workflow.investigation_start(investigation_id=investigation.pk,
                                 actor=world.user("assistant.north"))
    for code, value in (("SALES", sales), ("TAX_SALES", tax_sales)):
        workflow.answer_save(investigation_id=investigation.pk, item_code=code, value=value,
                             actor=world.user("am.north"))
    return investigation


def test_the_dry_run_shows_which_recent_files_would_be_flagged_differently(
        client, world, published, officers):
    investigation = _answered_investigation(world, "100000", "90000")  # 10 % apart
    draft = _draft(published, officers[0])
    data = services.template_editable_document(draft)
    data["cross_checks"][0]["thresholds"][1]["value"] = "0.05"  # R2 from 5 % instead of 30 %
    services.template_draft_save(template_id=draft.pk, data=data, actor=officers[0])

    run = template_dry_run(viewer=officers[1], draft=draft)

    assert run.examined == 1 and len(run.changes) == 1
    change = run.changes[0]
    assert change.investigation_id == investigation.pk and change.gained == ["SALES_X"]
    assert investigation.application.reference in change.sentence
    client.force_login(officers[1])
    page = client.get(reverse("investigations:template", args=[draft.pk]))
    assert 'data-changed="1"' in page.content.decode()


def test_the_dry_run_sees_only_the_viewers_branches(world, published, officers):
    _answered_investigation(world, "100000", "90000")
    draft = _draft(published, officers[0])
    data = services.template_editable_document(draft)
    data["cross_checks"][0]["thresholds"][1]["value"] = "0.05"
    services.template_draft_save(template_id=draft.pk, data=data, actor=officers[0])
    south = User.objects.create_user(username="policy.south2", password="x",  # noqa: S106
                                     branch=world.south)
    south.groups.add(Group.objects.get(name=Role.POLICY_OFFICER))

    assert template_dry_run(viewer=User.objects.get(pk=south.pk), draft=draft).examined == 0


def test_four_eyes_publish_then_retire(client, published, officers):
    draft = _draft(published, officers[0])
    today = timezone.localdate().isoformat()
    publish = reverse("investigations:template-publish", args=[draft.pk])
    client.force_login(officers[0])

    refused = client.post(publish, {"effective_from": today})

    assert refused.status_code == 403 and "Four-eyes rule" in refused.content.decode()
    client.force_login(officers[1])
    assert client.post(publish, {"effective_from": today}).status_code == 302
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.state, draft.published_by, published.state) == (S.PUBLISHED, officers[1],
                                                                  S.RETIRED)
    again = client.post(publish, {"effective_from": today})
    assert again.status_code == 409
    retired = client.post(reverse("investigations:template-retire", args=[draft.pk]),
                          {"effective_to": today, "reason": "replaced by the IPC checklist"})
    assert retired.status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.RETIRED
    assert AuditEvent.objects.filter(action="checklist_template.retired",
                                     payload__reason="replaced by the IPC checklist").exists()


def test_a_draft_whose_rules_do_not_compile_is_not_published(client, published, officers):
    draft = _draft(published, officers[0])
    draft.cross_checks.update(expression="deviation(SALES, NOPE)")  # as an older import might
    client.force_login(officers[1])

    refused = client.post(reverse("investigations:template-publish", args=[draft.pk]),
                          {"effective_from": timezone.localdate().isoformat()})

    assert refused.status_code == 400 and "cross_checks.SALES_X.expression" in \
        refused.content.decode()
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_export_and_import_round_trip(client, published, officers):
    client.force_login(officers[0])
    for fmt, load in (("yaml", yaml.safe_load), ("json", json.loads)):
        exported = client.get(reverse("investigations:template-export",
                                      args=[published.pk, fmt]))
        assert exported.status_code == 200
        upload = io.BytesIO(exported.content)
        upload.name = f"mini.{fmt}"
        made = client.post(reverse("investigations:template-import"), {"document": upload})
        assert made.status_code == 302
        copy = ChecklistTemplate.objects.filter(code="mini").order_by("-version").first()
        assert copy.state == S.DRAFT and copy.created_by == officers[0]
        assert template_diff(draft=services.template_export(copy),
                             in_force=load(exported.content)) == []
    bad = io.BytesIO(b"format: nope\n")
    bad.name = "bad.yaml"
    before = ChecklistTemplate.objects.count()
    refused = client.post(reverse("investigations:template-import"), {"document": bad})
    assert refused.status_code == 400 and ChecklistTemplate.objects.count() == before


@pytest.mark.parametrize("username", ["am.north", "reviewer.north", "approver.north",
                                      "admin.north", "auditor.north"])
def test_other_roles_are_refused(client, world, published, username):
    client.force_login(world.user(username))
    draft = services.template_import(template_data(version=None))
    for response in (
            client.get(reverse("investigations:templates")),
            client.get(reverse("investigations:template", args=[published.pk])),
            client.post(reverse("investigations:template-next", args=[published.pk])),
            client.post(reverse("investigations:template-publish", args=[draft.pk]),
                        {"effective_from": timezone.localdate().isoformat()}),
            client.get(reverse("investigations:template-export", args=[published.pk, "json"])),
    ):
        assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == S.DRAFT
