import json
from decimal import Decimal
from io import StringIO

import pytest
import yaml
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.investigations.models import ChecklistTemplate, Item, PolicyValue
from apps.investigations.policy import PolicyResolver
from apps.investigations.services import (
    TemplateInvalid,
    template_export,
    template_import,
    template_publish,
    template_validate,
)
from apps.investigations.states import ChecklistTemplateState
from apps.investigations.tests.factories import template_data

pytestmark = pytest.mark.django_db


def user_with(username, *codenames):
    user = User.objects.create_user(username=username, password="x")  # noqa: S106
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def test_import_export_round_trip():
    template = template_import(template_data())
    exported = template_export(template)
    again = template_import({**exported, "version": 2})
    assert template_export(again) == {**exported, "version": 2}
    assert exported["sections"][0]["items"][3]["expression"] == (
        "ratio(BS.debts.amount, BS.assets.amount)")
    assert {p["key"] for p in exported["policies"]} == {"t.lev", "t.r3"}
    assert template.state == ChecklistTemplateState.DRAFT
    assert AuditEvent.objects.filter(action="checklist_template.imported").count() == 2


def test_round_trip_through_yaml_and_json_files(tmp_path):
    template = template_import(template_data())
    for fmt in ("json", "yaml"):
        path = tmp_path / f"t.{fmt}"
        call_command("export_checklist_template", "mini", "--version", "1", "--format", fmt,
                     "--output", str(path))
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if fmt == "json":
            assert json.loads(path.read_text(encoding="utf-8")) == loaded
        assert "迷你" in path.read_text(encoding="utf-8")  # readable, not escaped
        path.write_text(path.read_text(encoding="utf-8").replace('"version": 1', '"version": 7')
                        .replace("version: 1\n", "version: 7\n", 1), encoding="utf-8")
        out = StringIO()
        call_command("import_checklist_template", str(path), stdout=out)
        assert "draft" in out.getvalue()
        copy = ChecklistTemplate.objects.get(code="mini", version=7)
        assert template_export(copy) == {**template_export(template), "version": 7}
        copy.delete()


def test_a_bad_file_leaves_nothing():
    data = template_data()
    data["sections"][0]["items"][3]["expression"] = "ratio(BS.debts.amount, NOPE)"
    policies_before = set(PolicyValue.objects.values_list("pk", flat=True))  # migrations seed some
    with pytest.raises(TemplateInvalid) as info:
        template_import(data)
    assert "items.LEVERAGE.expression" in info.value.message_dict
    assert not ChecklistTemplate.objects.exists()
    assert set(PolicyValue.objects.values_list("pk", flat=True)) == policies_before
    assert not AuditEvent.objects.exists()


def test_import_command_reports_every_problem_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    data = template_data()
    data["cross_checks"][0]["thresholds"][0]["policy"] = "nope"
    data["sections"][0]["items"][0]["answer_type"] = "video"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was written") as info:
        call_command("import_checklist_template", str(path))
    assert "unknown policy key 'nope'" in str(info.value)
    assert "unknown answer type 'video'" in str(info.value)
    assert not ChecklistTemplate.objects.exists()
    path.write_text("a: [", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid JSON or YAML"):
        call_command("import_checklist_template", str(path))


def test_an_existing_version_or_a_changed_policy_value_is_refused():
    template_import(template_data())
    with pytest.raises(TemplateInvalid, match="already exists"):
        template_import(template_data())
    data = template_data(version=2)
    data["policies"][0]["value"] = "0.90"
    with pytest.raises(TemplateInvalid, match="new policy version"):
        template_import(data)
    assert template_import(template_data(version=None)).version == 2  # next number


def test_publish_validates_and_retires_the_previous_version():
    first = template_publish(template_id=template_import(template_data()).pk)
    assert first.state == ChecklistTemplateState.PUBLISHED
    second = template_import(template_data(version=2))
    # A draft edited in the database into an invalid state cannot be published.
    Item.objects.filter(template=second, code="LEVERAGE").update(expression="NOPE * 2")
    assert [str(i) for i in template_validate(second)] == [
        "items.LEVERAGE.expression: unknown item code 'NOPE' (character 1)"]
    with pytest.raises(TemplateInvalid):
        template_publish(template_id=second.pk)
    Item.objects.filter(template=second, code="LEVERAGE").update(
        expression="ratio(BS.debts.amount, BS.assets.amount)")
    template_publish(template_id=second.pk)
    first.refresh_from_db()
    assert first.state == ChecklistTemplateState.RETIRED
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["checklist_template.retired", "checklist_template.published"]


def test_four_eyes_and_permissions():
    maker = user_with("maker", "add_checklisttemplate", "publish_checklisttemplate")
    checker = user_with("checker", "publish_checklisttemplate")
    outsider = user_with("outsider")
    with pytest.raises(PermissionDenied):
        template_import(template_data(), actor=outsider)
    template = template_import(template_data(), actor=maker)
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        template_publish(template_id=template.pk, actor=maker)
    with pytest.raises(PermissionDenied):
        template_publish(template_id=template.pk, actor=outsider)
    published = template_publish(template_id=template.pk, actor=checker)
    assert published.published_by == checker


def test_policy_resolver_picks_the_version_in_force():
    import datetime as dt

    PolicyValue.objects.create(key="k", value=Decimal("0.3"), version=1,
                               effective_from=dt.date(2024, 1, 1))
    PolicyValue.objects.create(key="k", value=Decimal("0.4"), version=2,
                               effective_from=dt.date(2025, 1, 1))
    old = PolicyResolver(on=dt.date(2024, 6, 1))
    assert old("k") == Decimal("0.3") and old.used == {"k": 1}
    assert PolicyResolver(on=dt.date(2025, 6, 1))("k") == Decimal("0.4")
    assert PolicyResolver(on=dt.date(2023, 6, 1))("k") is None
