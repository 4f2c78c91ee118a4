"""Decision policies in the policy workbench (issue 17): draft as a copy, edit with errors and
nothing half-saved, diff in sentences, four-eyes publish on the shared versioning, retire,
YAML/JSON round-trip, refusals for other roles."""

import io

import pytest
import yaml
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.core.policy import PolicyVersionState as S
from apps.scoring import services
from apps.scoring.models import DecisionPolicy
from apps.scoring.policy_workbench import decision_policy_diff, decision_policy_impact

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(world):
    sync_role_groups()
    services.decision_policy_ensure()
    group = Group.objects.get(name=Role.POLICY_OFFICER)
    made = []
    for name in ("policy.one", "policy.two"):
        user = User.objects.create_user(username=name, password="x",  # noqa: S106
                                        branch=world.north)
        user.groups.add(group)
        made.append(User.objects.get(pk=user.pk))
    return made


def test_edit_diff_and_four_eyes_publish(client, officers):
    seeded = services.decision_policy_in_force()
    draft = services.decision_policy_draft_next(actor=officers[0])
    assert decision_policy_diff(draft=draft, in_force=seeded) == []
    client.force_login(officers[0])
    url = reverse("scoring:policy", args=[draft.pk])

    refused = client.post(url, {"document": yaml.safe_dump({**draft.document,
                                                            "grades": "nonsense"})})
    chinese = client.post(url, {"document": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    saved = client.post(url, {"document": yaml.safe_dump({**draft.document,
                                                          "psi_alert": 0.3})})

    assert refused.status_code == 400 and "grades" in refused.content.decode()
    assert chinese.status_code == 400 and "该字段是必填项" in chinese.content.decode()
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.document["psi_alert"] == 0.3
    assert any(line.startswith("psi_alert changes from") for line in
               decision_policy_diff(draft=draft, in_force=seeded))
    publish = reverse("scoring:policy-publish", args=[draft.pk])
    today = timezone.localdate().isoformat()
    assert client.post(publish, {"effective_from": today}).status_code == 403
    client.force_login(officers[1])
    assert client.post(publish, {"effective_from": today}).status_code == 302
    seeded.refresh_from_db()
    assert services.decision_policy_in_force() == draft and seeded.state == S.RETIRED
    assert client.post(publish, {"effective_from": today}).status_code == 409


def test_export_and_import_round_trip(client, officers):
    seeded = services.decision_policy_in_force()
    client.force_login(officers[0])
    for fmt in ("yaml", "json"):
        exported = client.get(reverse("scoring:policy-export", args=[seeded.pk, fmt]))
        upload = io.BytesIO(exported.content)
        upload.name = f"policy.{fmt}"
        assert client.post(reverse("scoring:policy-import"),
                           {"document": upload}).status_code == 302
        copy = DecisionPolicy.objects.order_by("-version").first()
        assert copy.state == S.DRAFT and copy.document == seeded.document
    bad = io.BytesIO(b"format: nope\n")
    bad.name = "bad.yaml"
    before = DecisionPolicy.objects.count()
    assert client.post(reverse("scoring:policy-import"), {"document": bad}).status_code == 400
    assert DecisionPolicy.objects.count() == before


@pytest.mark.parametrize("username", ["am.north", "approver.north", "auditor.north"])
def test_other_roles_are_refused(client, world, officers, username):
    draft = services.decision_policy_draft_next(actor=officers[0])
    client.force_login(world.user(username))
    for response in (
            client.get(reverse("scoring:policies")),
            client.get(reverse("scoring:policy", args=[draft.pk])),
            client.post(reverse("scoring:policy-next")),
            client.post(reverse("scoring:policy-publish", args=[draft.pk]),
                        {"effective_from": timezone.localdate().isoformat()}),
    ):
        assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def _flipped(document: dict, *, grade: str, now: str) -> tuple[dict, str]:
    """The same policy advising differently on `grade`: decline where it advised otherwise,
    else approve with no knock-out (a knock-out only ever makes advice stricter)."""
    after = "approve" if now == "decline" else "decline"
    flipped = {**document, "recommendation_by_grade": {
        **document["recommendation_by_grade"], grade: after}}
    if after == "approve":
        flipped["knockouts"] = []
    return flipped, after


def test_the_preview_names_whose_advice_the_draft_would_change(client, world, officers,
                                                                investigated):
    result = services.application_score(application_id=investigated.pk)
    draft = services.decision_policy_draft_next(actor=officers[0])
    assert decision_policy_impact(viewer=officers[0], draft=draft) == (1, [])
    flipped, after = _flipped(draft.document, grade=result.grade, now=result.recommendation)
    services.decision_policy_save(policy_id=draft.pk, actor=officers[0], document=flipped)
    draft.refresh_from_db()

    examined, changes = decision_policy_impact(viewer=officers[0], draft=draft)
    client.force_login(officers[0])
    page = client.get(reverse("scoring:policy", args=[draft.pk])).content.decode()

    assert examined == 1
    assert [(c.reference, c.before, c.after) for c in changes] == [(
        investigated.reference, f"{result.grade} / {result.recommendation}",
        f"{result.grade} / {after}")]
    assert investigated.reference in page
    # The preview is the viewer's branches only: a south officer sees none of the north file.
    south = User.objects.create_user(username="policy.south.preview", password="x",  # noqa: S106
                                     branch=world.south)
    south.groups.add(Group.objects.get(name=Role.POLICY_OFFICER))
    assert decision_policy_impact(viewer=User.objects.get(pk=south.pk), draft=draft) == (0, [])
    # The file's own stored advice is untouched: only a published policy decides.
    before = result.recommendation
    result.refresh_from_db()
    assert result.recommendation == before


def test_retire_withdraws_the_policy_in_force_and_needs_the_publisher(client, world, officers):
    draft = services.decision_policy_draft_next(actor=officers[0])
    client.force_login(officers[1])
    today = timezone.localdate().isoformat()
    assert client.post(reverse("scoring:policy-publish", args=[draft.pk]),
                       {"effective_from": today}).status_code == 302
    retire = reverse("scoring:policy-retire", args=[draft.pk])
    form = {"effective_to": today, "reason": "Superseded by the branch's new grade table."}

    client.force_login(world.user("approver.north"))
    assert client.post(retire, form).status_code == 403
    draft.refresh_from_db()
    assert draft.state == S.PUBLISHED
    client.force_login(officers[1])
    assert client.post(retire, {"effective_to": today}).status_code == 400  # no reason
    assert client.post(retire, form).status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.RETIRED
    assert client.post(retire, form).status_code == 409
