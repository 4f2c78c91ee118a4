"""Policy values in the policy workbench (issue 17): draft, edit with field errors in both
languages and nothing half-saved, diff in words, four-eyes publish, retire, YAML/JSON
round-trip, refusals for other roles, and rules reading only what is published."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import yaml
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.audit.models import AuditEvent
from apps.core.exceptions import VersionFrozen
from apps.core.policy import PolicyVersionState as S
from apps.investigations import policy_services as services
from apps.investigations.models import PolicyValue
from apps.investigations.policy import PolicyResolver

pytestmark = pytest.mark.django_db

KEY = "review.leverage.max"


@pytest.fixture
def officers():
    sync_role_groups()
    group = Group.objects.get(name=Role.POLICY_OFFICER)
    made = []
    for name in ("policy.one", "policy.two"):
        user = User.objects.create_user(username=name, password="x")  # noqa: S106
        user.groups.add(group)
        made.append(User.objects.get(pk=user.pk))
    return made


@pytest.fixture
def seeded():
    # Written directly, as every seed does: the system's value, in force at once.
    return PolicyValue.objects.create(key=KEY, value=Decimal("0.7"), unit="ratio", version=1,
                                      effective_from=dt.date(2024, 1, 1),
                                      source_citation="Credit manual §4.2", evidence="G")


def _form(**changes):
    data = {"value": "0.75", "unit": "ratio", "effective_from": timezone.localdate().isoformat(),
            "evidence": "M", "source_citation": "Credit manual 2026 §4.2",
            "description_en": "", "description_zh": ""}
    data.update(changes)
    return data


def test_a_draft_is_read_by_no_rule_until_a_second_officer_publishes_it(seeded, officers):
    drafter, checker = officers
    draft = services.policy_value_draft(key=KEY, actor=drafter, value=Decimal("0.75"))
    assert (draft.version, draft.state, draft.source_citation) == (2, S.DRAFT,
                                                                   "Credit manual §4.2")
    assert PolicyResolver()(KEY) == Decimal("0.7")
    assert not PolicyValue.objects.filter(pk=draft.pk).exists()  # readers never see drafts

    with pytest.raises(Exception, match="Four-eyes"):
        services.policy_value_publish(value_id=draft.pk, actor=drafter)
    services.policy_value_publish(value_id=draft.pk, actor=checker,
                                  effective_from=timezone.localdate())
    seeded.refresh_from_db()
    assert PolicyResolver()(KEY) == Decimal("0.75")
    assert (seeded.state, seeded.effective_to) == (S.RETIRED, timezone.localdate())
    # What a rule read last year is still explainable.
    assert PolicyResolver(on=dt.date(2025, 6, 1))(KEY) == Decimal("0.7")
    with pytest.raises(VersionFrozen):
        services.policy_value_update(value_id=draft.pk, actor=drafter, value=Decimal("1"))


def test_editing_a_draft_gives_field_errors_in_both_languages_and_saves_nothing(
        client, seeded, officers):
    draft = services.policy_value_draft(key=KEY, actor=officers[0])
    client.force_login(officers[0])
    url = reverse("investigations:policy-value", args=[draft.pk])

    bad = client.post(url, _form(value="lots", unit="x" * 40))
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Enter a number." in html and "at most 30 characters" in html
    chinese = client.post(url, _form(value="lots"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请填写数字。" in chinese.content.decode()
    draft.refresh_from_db()
    assert draft.value == Decimal("0.7") and draft.unit == "ratio"

    ok = client.post(url, _form())
    assert ok.status_code == 302
    draft.refresh_from_db()
    assert draft.value == Decimal("0.75")
    page = client.get(url).content.decode()
    assert f"{KEY} changes from 0.7 ratio to 0.75 ratio." in page
    assert AuditEvent.objects.filter(action="policy_value.changed").count() == 1


def test_publish_and_retire_through_the_pages(client, seeded, officers):
    drafter, checker = officers
    client.force_login(drafter)
    assert client.post(reverse("investigations:policy-value-next", args=[seeded.pk])
                       ).status_code == 302
    draft = PolicyValue.all_versions.get(key=KEY, version=2)
    publish = reverse("investigations:policy-value-publish", args=[draft.pk])
    today = timezone.localdate().isoformat()
    assert client.post(publish, {"effective_from": today}).status_code == 403

    client.force_login(checker)
    assert client.post(publish, {"effective_from": today}).status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.PUBLISHED and draft.published_by == checker

    retire = reverse("investigations:policy-value-retire", args=[draft.pk])
    assert client.post(retire, {"effective_to": today, "reason": "Threshold dropped"}
                       ).status_code == 302
    assert PolicyResolver()(KEY) is None


def test_export_import_round_trip_drafts_only_what_differs(client, seeded, officers):
    PolicyValue.objects.create(key="other.key", value=Decimal("3"), unit="days", version=1,
                               effective_from=dt.date(2024, 1, 1))
    client.force_login(officers[0])
    exported = client.get(reverse("investigations:policy-values-export", args=["yaml"]))
    document = yaml.safe_load(exported.content.decode())
    assert {KEY, "other.key"} <= {row["key"] for row in document["values"]}
    as_json = json.loads(client.get(reverse("investigations:policy-values-export",
                                            args=["json"])).content)
    assert as_json == document

    # Unchanged, the file drafts nothing; with one value changed, one draft.
    assert services.policy_values_import(document, actor=officers[0]) == []
    row = next(row for row in document["values"] if row["key"] == KEY)
    row["value"] = "0.8"
    upload = io.BytesIO(yaml.safe_dump(document).encode())
    upload.name = "policy.yaml"
    response = client.post(reverse("investigations:policy-values-import"), {"document": upload})
    assert response.status_code == 302
    draft = PolicyValue.all_versions.get(state=S.DRAFT)
    assert (draft.key, draft.value, draft.created_by) == (KEY, Decimal("0.8"), officers[0])

    broken = {"format": services.EXPORT_FORMAT, "values": [{"key": "x", "value": "abc"}]}
    with pytest.raises(Exception, match="needs a key"):
        services.policy_values_import(broken, actor=officers[0])


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEAM_LEAD, Role.AUDITOR, Role.APPROVER])
def test_other_roles_are_refused(client, seeded, officers, role):
    user = User.objects.create_user(username=f"someone.{role}", password="x")  # noqa: S106
    user.groups.add(Group.objects.get(name=role))
    draft = services.policy_value_draft(key=KEY, actor=officers[0])
    client.force_login(user)
    assert client.get(reverse("investigations:policy-values")).status_code == 403
    assert client.get(reverse("investigations:policy-value", args=[draft.pk])).status_code == 403
    assert client.post(reverse("investigations:policy-value-publish", args=[draft.pk]),
                       {"effective_from": "2026-01-01"}).status_code == 403
    assert client.get(reverse("investigations:policy-values-export", args=["json"])
                      ).status_code == 403
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_the_list_shows_every_key_with_its_citation(client, seeded, officers):
    client.force_login(officers[0])
    html = client.get(reverse("investigations:policy-values")).content.decode()
    assert f'data-key="{KEY}"' in html and "Credit manual §4.2" in html
