"""Document requirements in the policy workbench (issue 17): draft as a copy of what applies,
edit whole with errors by path in both languages and nothing half-saved, diff in sentences,
what changes for which open files, four-eyes publish applied to the rows readers use, retire,
YAML/JSON round-trip, refusals for other roles."""

import io

import pytest
import yaml
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.core.policy import PolicyVersionState as S
from apps.documents import requirement_services as services
from apps.documents.checklist import checklist_rows
from apps.documents.models import DocumentRequirement, DocumentRequirementSet
from apps.documents.requirement_workbench import requirements_diff, requirements_impact

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(docs, world):
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
def product(world):
    return world.version.product


def _draft(product, officer):
    return services.requirement_set_draft(product_id=product.pk, actor=officer)


def test_a_draft_copies_what_applies_and_differs_in_nothing(product, officers):
    draft = _draft(product, officers[0])

    assert (draft.version, draft.state, draft.created_by) == (1, S.DRAFT, officers[0])
    assert len(draft.rows) == DocumentRequirement.objects.filter(
        product=product, is_active=True).count() > 0
    assert requirements_diff(draft_rows=draft.rows, in_force_rows=services.
                             requirement_rows_in_force(product.pk)) == []


def test_bad_rows_get_errors_by_path_in_both_languages_and_nothing_is_saved(
        client, product, officers):
    draft = _draft(product, officers[0])
    client.force_login(officers[0])
    url = reverse("documents:requirements", args=[draft.pk])
    rows = [dict(row) for row in draft.rows]
    rows[0]["checks"] = ["no_such_check"]
    rows[1]["document_type"] = "no_such_type"

    english = client.post(url, {"rows": yaml.safe_dump(rows)})
    chinese = client.post(url, {"rows": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    unreadable = client.post(url, {"rows": "[unclosed"})

    assert english.status_code == 400
    body = english.content.decode()
    assert "rows.0.checks" in body and "rows.1.document_type" in body
    assert chinese.status_code == 400 and "该字段是必填项" in chinese.content.decode()
    assert unreadable.status_code == 400 and "neither YAML nor JSON" in \
        unreadable.content.decode()
    draft.refresh_from_db()
    assert draft.rows[0]["checks"] != ["no_such_check"]


def test_the_impact_names_the_open_files_that_would_wait_for_other_documents(
        client, world, product, officers):
    application = world.in_state(ApplicationState.SUBMITTED)
    draft = _draft(product, officers[0])
    rows = [row for row in draft.rows if row["document_type"] != "business_licence"]
    rows.append({"document_type": "financial_statement", "stage": "send_to_review",
                 "required": True, "min_count": 1})
    services.requirement_set_save(set_id=draft.pk, rows=rows, actor=officers[0])
    draft.refresh_from_db()

    examined, impacts = requirements_impact(viewer=officers[1], draft=draft)

    assert examined >= 1
    impact = next(i for i in impacts if i.application.pk == application.pk)
    assert impact.newly_blocking == ["financial_statement (send_to_review)"]
    assert impact.no_longer_blocking == ["business_licence (send_to_review)"]
    lines = requirements_diff(draft_rows=draft.rows,
                              in_force_rows=services.requirement_rows_in_force(product.pk))
    assert any(line.startswith("New requirement: financial_statement") for line in lines)
    assert any(line.startswith("No longer required: business_licence") for line in lines)
    client.force_login(officers[1])
    page = client.get(reverse("documents:requirements", args=[draft.pk])).content.decode()
    assert application.reference in page and "would now wait for financial_statement" in page


def test_four_eyes_publish_applies_the_rows_and_retire_ungates(client, world, product,
                                                               officers):
    application = world.in_state(ApplicationState.SUBMITTED)
    draft = _draft(product, officers[0])
    rows = [row for row in draft.rows if row["document_type"] != "business_licence"]
    services.requirement_set_save(set_id=draft.pk, rows=rows, actor=officers[0])
    today = timezone.localdate().isoformat()
    publish = reverse("documents:requirements-publish", args=[draft.pk])
    client.force_login(officers[0])

    refused = client.post(publish, {"effective_from": today})

    assert refused.status_code == 403 and "Four-eyes rule" in refused.content.decode()
    assert DocumentRequirement.objects.get(product=product, document_type__code=(
        "business_licence")).is_active
    client.force_login(officers[1])
    assert client.post(publish, {"effective_from": today}).status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.PUBLISHED
    codes = {row.requirement.document_type.code for row in checklist_rows(application)}
    assert "business_licence" not in codes and "id_card" in codes
    assert AuditEvent.objects.filter(action="document_requirements.published").count() == 1
    assert client.post(publish, {"effective_from": today}).status_code == 409
    retired = client.post(reverse("documents:requirements-retire", args=[draft.pk]),
                          {"effective_to": today, "reason": "product withdrawn"})
    assert retired.status_code == 302
    assert checklist_rows(application) == []


def test_export_and_import_round_trip(client, product, officers):
    draft = _draft(product, officers[0])
    client.force_login(officers[0])
    for fmt in ("yaml", "json"):
        exported = client.get(reverse("documents:requirements-export", args=[draft.pk, fmt]))
        assert exported.status_code == 200
        upload = io.BytesIO(exported.content)
        upload.name = f"requirements.{fmt}"
        assert client.post(reverse("documents:requirements-import"),
                           {"document": upload}).status_code == 302
        copy = DocumentRequirementSet.objects.filter(product=product).order_by(
            "-version").first()
        assert copy.rows == draft.rows and copy.state == S.DRAFT
    bad = io.BytesIO(b"format: credence.document-requirements/1\nproduct: nope\nrows: []\n")
    bad.name = "bad.yaml"
    before = DocumentRequirementSet.objects.count()
    refused = client.post(reverse("documents:requirements-import"), {"document": bad})
    assert refused.status_code == 400 and DocumentRequirementSet.objects.count() == before


@pytest.mark.parametrize("username", ["am.north", "reviewer.north", "admin.north",
                                      "auditor.north"])
def test_other_roles_are_refused(client, world, product, officers, username):
    draft = _draft(product, officers[0])
    client.force_login(world.user(username))
    for response in (
            client.get(reverse("documents:requirements-list")),
            client.get(reverse("documents:requirements", args=[draft.pk])),
            client.post(reverse("documents:requirements-next", args=[product.code])),
            client.post(reverse("documents:requirements-publish", args=[draft.pk]),
                        {"effective_from": timezone.localdate().isoformat()}),
    ):
        assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == S.DRAFT
