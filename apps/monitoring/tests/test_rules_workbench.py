"""Early-warning signal rules and the level → action table in the policy workbench (issue 17):
draft as a copy of the version in force, edit with field errors in both languages and nothing
half-saved, diff in sentences, preview, four-eyes publish, retire, YAML/JSON round-trip,
refusals for other roles, read-only admin, and the monthly run reading the version in force."""

import datetime as dt
import io

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import VersionFrozen
from apps.core.policy import PolicyVersionState as S
from apps.investigations.tests import test_policy_workbench
from apps.monitoring import rule_services as services
from apps.monitoring.models import Action, LevelActionRule, LevelActionTable, Signal, SignalRule
from apps.monitoring.rules_workbench import level_action_diff, signal_rule_diff
from apps.monitoring.services.actions import level_action_rules
from apps.monitoring.services.signals import signal_rules_in_force
from apps.monitoring.states import ActionKind
from apps.monitoring.tests.test_run import _run_all

pytestmark = pytest.mark.django_db

officers = test_policy_workbench.officers  # two policy officers (the fixture, shared)


def _signal_form(rule, **changes):
    data = {name: getattr(rule, name) for name in services.SIGNAL_FIELDS}
    data["thresholds"] = "\n".join(rule.thresholds)
    data["implies_floor"] = "on" if rule.implies_floor else ""
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


# --- signal rules ------------------------------------------------------------------------------

def test_existing_rules_are_versions_in_force_and_a_draft_copies_one(world, officers):
    w03 = SignalRule.objects.get(code="W03")
    assert (w03.state, w03.version) == (S.PUBLISHED, 1)
    draft = services.signal_rule_draft(code="W03", actor=officers[0])
    assert (draft.version, draft.state, draft.created_by) == (2, S.DRAFT, officers[0])
    assert signal_rule_diff(draft=draft, in_force=w03) == []
    assert signal_rules_in_force(on=timezone.localdate())["W03"] == w03  # drafts are not read
    assert not SignalRule.objects.filter(pk=draft.pk).exists()


def test_a_bad_edit_gets_field_errors_in_both_languages_and_saves_nothing(
        client, world, officers):
    draft = services.signal_rule_draft(code="W03", actor=officers[0])
    client.force_login(officers[0])
    url = reverse("monitoring:signal-rule", args=[draft.pk])
    bad = _signal_form(draft, level="9", thresholds="no.such.key", name_en="Changed")

    english = client.post(url, bad)
    assert english.status_code == 400
    assert english.context["form"].errors.keys() >= {"level"}
    chinese = client.post(url, bad, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400
    assert "选择" in str(chinese.context["form"].errors["level"])  # Django's own catalogue

    # Form valid, service refuses the unknown policy key: by field, nothing saved.
    refused = client.post(url, _signal_form(draft, thresholds="no.such.key", name_en="Changed"))
    assert refused.status_code == 400
    assert "no.such.key" in str(refused.context["form"].errors["thresholds"])
    draft.refresh_from_db()
    assert draft.name_en != "Changed"


def test_diff_preview_four_eyes_publish_and_retire(client, world, officers,
                                                   django_capture_on_commit_callbacks):
    drafter, checker = officers
    loan = world.loan(dpd=95)
    _run_all(timezone.localdate() - dt.timedelta(days=1), django_capture_on_commit_callbacks)
    w01 = SignalRule.objects.get(code="W01")
    draft = services.signal_rule_draft(code="W01", actor=drafter)
    client.force_login(drafter)
    saved = client.post(reverse("monitoring:signal-rule", args=[draft.pk]),
                        _signal_form(draft, name_en="Arrears (renamed)", implies_floor="on"))
    assert saved.status_code == 302

    page = client.get(reverse("monitoring:signal-rule", args=[draft.pk]))
    text = page.content.decode()
    assert "Arrears (renamed)" in text and "instead of" in text
    assert page.context["preview"]["loans"] == 1  # the book's open W01 under v1
    draft.refresh_from_db()
    assert any("yes" in line for line in signal_rule_diff(draft=draft, in_force=w01))

    refused = client.post(reverse("monitoring:signal-rule-publish", args=[draft.pk]),
                          {"effective_from": timezone.localdate().isoformat()})
    assert refused.status_code == 403
    client.force_login(checker)
    published = client.post(reverse("monitoring:signal-rule-publish", args=[draft.pk]),
                            {"effective_from": timezone.localdate().isoformat()})
    assert published.status_code == 302
    draft.refresh_from_db()
    w01.refresh_from_db()
    assert (draft.state, draft.published_by, w01.state) == (S.PUBLISHED, checker, S.RETIRED)
    assert signal_rules_in_force(on=timezone.localdate())["W01"] == draft
    with pytest.raises(VersionFrozen):
        services.signal_rule_update(rule_id=draft.pk, actor=drafter, name_en="x")
    assert AuditEvent.objects.filter(action="signal_rule.published").exists()

    # The next run reads the version in force.
    run = _run_all(timezone.localdate(), django_capture_on_commit_callbacks)
    assert run.chunks.get().counts["rules"]["W01"] == 2  # what the chunk read
    assert Signal.objects.get(loan=loan, code="W01").rule_id in (w01.pk, draft.pk)

    retired = client.post(reverse("monitoring:signal-rule-retire", args=[draft.pk]),
                          {"effective_to": timezone.localdate().isoformat(), "reason": "test"})
    assert retired.status_code == 302
    assert "W01" not in signal_rules_in_force(on=timezone.localdate())


def test_signal_rules_export_import_round_trip(client, world, officers):
    client.force_login(officers[0])
    exported = client.get(reverse("monitoring:signal-rules-export", args=["yaml"]),
                          {"code": "W03"})
    document = yaml.safe_load(exported.content)
    assert [r["code"] for r in document["rules"]] == ["W03"]
    # The same document drafts nothing; a changed one drafts the next version.
    assert services.signal_rules_import(document, actor=officers[0]) == []
    document["rules"][0]["name_en"] = "Imported name"
    upload = io.BytesIO(yaml.safe_dump(document).encode())
    upload.name = "rules.yaml"
    made = client.post(reverse("monitoring:signal-rules-import"), {"document": upload})
    assert made.status_code == 302
    draft = SignalRule.all_versions.get(code="W03", version=2)
    assert (draft.state, draft.name_en) == (S.DRAFT, "Imported name")
    document["rules"][0]["level"] = 7
    with pytest.raises(Exception, match="rules.0.level"):
        services.signal_rules_import(document, actor=officers[0])


# --- the level → action table -----------------------------------------------------------------

def test_the_table_migrated_to_a_version_and_a_draft_copies_it(world, officers):
    v1 = LevelActionTable.objects.get()
    assert (v1.version, v1.state) == (1, S.PUBLISHED)
    draft = services.level_action_table_draft_next(actor=officers[0])
    assert draft.rules.count() == v1.rules.count() > 0
    assert level_action_diff(draft=draft, in_force=v1) == []


def test_row_edits_field_errors_diff_publish_and_the_run_reads_it(
        client, world, officers, django_capture_on_commit_callbacks):
    drafter, checker = officers
    v1 = LevelActionTable.objects.get()
    draft = services.level_action_table_draft_next(actor=drafter)
    client.force_login(drafter)
    add = reverse("monitoring:level-action-add", args=[draft.pk])
    bad = {"level": "3", "kind": ActionKind.FREEZE, "deadline_policy_key": "no.such.key",
           "evidence": "G"}
    refused = client.post(add, bad)
    assert refused.status_code == 400
    assert "no.such.key" in str(refused.context["row_form"].errors["deadline_policy_key"])
    chinese = client.post(add, {**bad, "level": "9"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400 and "选择" in str(chinese.context["row_form"].errors)
    assert draft.rules.count() == v1.rules.count()  # nothing half-saved

    # Drop every level-2 row: the diff says so in sentences.
    for row in draft.rules.filter(level=2):
        assert client.post(reverse("monitoring:level-action-remove", args=[row.pk])
                           ).status_code == 302
    page = client.get(reverse("monitoring:level-actions", args=[draft.pk]))
    assert "Dropped: level 2 requires" in page.content.decode()

    assert client.post(reverse("monitoring:level-actions-publish", args=[draft.pk]),
                       {"effective_from": timezone.localdate().isoformat()}).status_code == 403
    client.force_login(checker)
    assert client.post(reverse("monitoring:level-actions-publish", args=[draft.pk]),
                       {"effective_from": timezone.localdate().isoformat()}).status_code == 302
    v1.refresh_from_db()
    assert v1.state == S.RETIRED
    assert 2 not in level_action_rules(on=timezone.localdate())
    with pytest.raises(VersionFrozen):
        LevelActionRule.objects.filter(table=draft).first().delete()

    watch = world.loan(dpd=35)  # W01 level 2: no mandatory action under the new table
    _run_all(timezone.localdate(), django_capture_on_commit_callbacks)
    assert not Action.objects.filter(loan=watch).exists()


def test_table_export_import_round_trip_and_retire(client, world, officers):
    v1 = LevelActionTable.objects.get()
    client.force_login(officers[0])
    exported = client.get(reverse("monitoring:level-actions-export", args=[v1.pk, "json"]))
    upload = io.BytesIO(exported.content)
    upload.name = "table.json"
    made = client.post(reverse("monitoring:level-actions-import"), {"document": upload})
    assert made.status_code == 302
    draft = LevelActionTable.objects.get(version=2)
    assert level_action_diff(draft=draft, in_force=v1) == []
    client.force_login(officers[1])
    retired = client.post(reverse("monitoring:level-actions-retire", args=[v1.pk]),
                          {"effective_to": timezone.localdate().isoformat(), "reason": "test"})
    assert retired.status_code == 302
    assert level_action_rules(on=timezone.localdate()) == {}


# --- who may --------------------------------------------------------------------------------

def test_other_roles_are_refused(client, world):
    client.force_login(world.user("postloan.north"))
    v1 = LevelActionTable.objects.get()
    w03 = SignalRule.objects.get(code="W03")
    for url in (reverse("monitoring:signal-rules"), reverse("monitoring:level-actions-list"),
                reverse("monitoring:signal-rule", args=[w03.pk]),
                reverse("monitoring:level-actions", args=[v1.pk])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("monitoring:signal-rule-draft", args=["W03"])).status_code == 403
    assert client.post(reverse("monitoring:level-actions-next")).status_code == 403
    assert SignalRule.all_versions.filter(code="W03").count() == 1


def test_admin_is_read_only(admin_client, world):
    assert admin_client.get(reverse("admin:monitoring_signalrule_add")).status_code == 403
    v1 = LevelActionTable.objects.get()
    assert admin_client.get(reverse("admin:monitoring_levelactiontable_change",
                                    args=[v1.pk])).status_code == 200
