"""The authority matrix in the policy workbench (issue 17): draft as a copy, rows edited with
field errors in both languages and nothing half-saved, the gap/overlap check naming rows, diff
in sentences, four-eyes publish, retire, YAML/JSON round-trip, refusals for other roles."""

import io
import json

import pytest
import yaml
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.approvals.matrix_diff import authority_matrix_diff
from apps.approvals.models import AuthorityMatrix
from apps.approvals.seed import BRANCH_APPROVER, seed_matrix
from apps.approvals.services import matrix as services
from apps.audit.models import AuditEvent
from apps.core.policy import PolicyVersionState as S

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
def in_force(world):
    return seed_matrix()


def _row_post(rule, **changes):
    data = {"product": rule.product.code, "amount_above": str(rule.amount_above),
            "amount_up_to": "" if rule.amount_up_to is None else str(rule.amount_up_to),
            "grades": ", ".join(rule.grades), "policy_exception": rule.policy_exception,
            "steps": json.dumps(rule.steps), "evidence": rule.evidence,
            "source_citation": rule.source_citation}
    data.update(changes)
    if not data["policy_exception"]:
        del data["policy_exception"]
    return data


def test_a_draft_starts_as_a_copy_with_no_gap_and_no_difference(in_force, officers):
    draft = services.authority_matrix_draft_next(actor=officers[0])

    assert (draft.version, draft.state, draft.created_by) == (2, S.DRAFT, officers[0])
    assert draft.rules.count() == in_force.rules.count()
    assert authority_matrix_diff(draft=draft, in_force=in_force) == []


def test_a_row_edit_shows_the_gap_it_opens_with_its_row_number(client, in_force, officers):
    draft = services.authority_matrix_draft_next(actor=officers[0])
    rule = draft.rules.select_related("product").order_by("row").first()  # 0 – 1,000,000
    client.force_login(officers[0])

    saved = client.post(reverse("approvals:matrix-rule", args=[rule.pk]),
                        _row_post(rule, amount_up_to="500000"))

    assert saved.status_code == 302
    page = client.get(reverse("approvals:matrix", args=[draft.pk])).content.decode()
    assert 'data-problems="0"' not in page
    assert "Gap: nothing covers" in page and "500,000" in page
    lines = authority_matrix_diff(draft=draft, in_force=in_force)
    assert len(lines) == 1 and lines[0].startswith(f"Row {rule.row} changes from")
    assert AuditEvent.objects.filter(action="authority_rule.added",
                                     payload__row=rule.row).exists()


def test_an_overlap_names_both_rows_and_blocks_publication(client, in_force, officers):
    draft = services.authority_matrix_draft_next(actor=officers[0])
    first = draft.rules.select_related("product").order_by("row").first()
    services.authority_rule_add(matrix_id=draft.pk, actor=officers[0], product=first.product,
                                amount_above=0, amount_up_to=None, grades=first.grades,
                                policy_exception=first.policy_exception,
                                steps=[BRANCH_APPROVER])
    client.force_login(officers[1])

    refused = client.post(reverse("approvals:matrix-publish", args=[draft.pk]),
                          {"effective_from": timezone.localdate().isoformat()})

    assert refused.status_code == 400
    assert f"rows {first.row} and" in refused.content.decode() or \
        f"and {first.row} both" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_bad_rows_get_field_errors_in_both_languages_and_nothing_is_saved(
        client, in_force, officers):
    draft = services.authority_matrix_draft_next(actor=officers[0])
    rule = draft.rules.select_related("product").order_by("row").first()
    client.force_login(officers[0])
    url = reverse("approvals:matrix-rule", args=[rule.pk])
    bad_steps = json.dumps([{"kind": "individual", "level": 0, "label": "x",
                             "deadline_hours": 4, "remind_after_hours": 8}])

    english = client.post(url, _row_post(rule, steps=bad_steps, amount_above="-1"))
    chinese = client.post(url, _row_post(rule, grades=""), HTTP_ACCEPT_LANGUAGE="zh-hans")
    unreadable = client.post(url, _row_post(rule, steps="[unclosed"))
    refused = client.post(url, _row_post(rule, steps=bad_steps))

    assert english.status_code == 400 and "greater than or equal to 0" in \
        english.content.decode()
    assert chinese.status_code == 400 and "该字段是必填项" in chinese.content.decode()
    assert unreadable.status_code == 400 and "neither YAML nor JSON" in \
        unreadable.content.decode()
    assert refused.status_code == 400 and "authority level" in refused.content.decode()
    rule.refresh_from_db()
    assert rule.amount_above == 0 and rule.steps[0]["level"] == 1


def test_four_eyes_publish_retire_and_frozen_rows(client, in_force, officers):
    draft = services.authority_matrix_draft_next(actor=officers[0])
    today = timezone.localdate().isoformat()
    publish = reverse("approvals:matrix-publish", args=[draft.pk])
    client.force_login(officers[0])

    refused = client.post(publish, {"effective_from": today})

    assert refused.status_code == 403 and "Four-eyes rule" in refused.content.decode()
    client.force_login(officers[1])
    assert client.post(publish, {"effective_from": today}).status_code == 302
    draft.refresh_from_db()
    in_force.refresh_from_db()
    assert (draft.state, in_force.state) == (S.PUBLISHED, S.RETIRED)
    rule = draft.rules.first()
    frozen = client.post(reverse("approvals:matrix-rule", args=[rule.pk]),
                         _row_post(rule, amount_up_to="1"))
    assert frozen.status_code == 409
    assert client.post(reverse("approvals:matrix-retire", args=[draft.pk]),
                       {"effective_to": today, "reason": "withdrawn"}).status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.RETIRED


def test_export_and_import_round_trip(client, in_force, officers):
    client.force_login(officers[0])
    for fmt in ("yaml", "json"):
        exported = client.get(reverse("approvals:matrix-export", args=[in_force.pk, fmt]))
        assert exported.status_code == 200
        upload = io.BytesIO(exported.content)
        upload.name = f"matrix.{fmt}"
        made = client.post(reverse("approvals:matrix-import"), {"document": upload})
        assert made.status_code == 302
        copy = AuthorityMatrix.objects.order_by("-version").first()
        assert copy.state == S.DRAFT and copy.created_by == officers[0]
        assert authority_matrix_diff(draft=copy, in_force=in_force) == []
    document = yaml.safe_load(client.get(reverse(
        "approvals:matrix-export", args=[in_force.pk, "yaml"])).content)
    document["rules"][0]["product"] = "no-such-product"
    bad = io.BytesIO(yaml.safe_dump(document).encode())
    bad.name = "bad.yaml"
    before = AuthorityMatrix.objects.count()
    refused = client.post(reverse("approvals:matrix-import"), {"document": bad})
    assert refused.status_code == 400 and "rules.0.product" in refused.content.decode()
    assert AuthorityMatrix.objects.count() == before


@pytest.mark.parametrize("username", ["am.north", "reviewer.north", "approver.north",
                                      "admin.north", "auditor.north"])
def test_other_roles_are_refused(client, world, in_force, username):
    client.force_login(world.user(username))
    for response in (
            client.get(reverse("approvals:matrices")),
            client.get(reverse("approvals:matrix", args=[in_force.pk])),
            client.post(reverse("approvals:matrix-next")),
            client.post(reverse("approvals:matrix-retire", args=[in_force.pk]),
                        {"effective_to": timezone.localdate().isoformat(), "reason": "x"}),
            client.get(reverse("approvals:matrix-export", args=[in_force.pk, "json"])),
    ):
        assert response.status_code == 403
    in_force.refresh_from_db()
    assert in_force.state == S.PUBLISHED
