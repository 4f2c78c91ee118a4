"""The products side of the policy workbench (issue 17): draft from the version in force, edit
with field errors in both languages and nothing half-saved, diff, four-eyes publish, retire,
and refusals for everyone who is not a policy officer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role, sync_role_groups
from apps.audit.models import AuditEvent
from apps.core.exceptions import VersionFrozen
from apps.products import services
from apps.products.diff import product_version_diff
from apps.products.models import EntryCondition, ProductVersion
from apps.products.states import ProductVersionState

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(world):
    sync_role_groups()
    group = Group.objects.get(name=Role.POLICY_OFFICER)
    made = []
    for name in ("policy.one", "policy.two"):
        user = User.objects.create_user(username=name, password="x", branch=world.north)
        user.groups.add(group)
        made.append(User.objects.get(pk=user.pk))
    return made


def _terms(version, **changes):
    data = {"amount_min": version.amount_min, "amount_max": version.amount_max,
            "term_min_months": version.term_min_months,
            "term_max_months": version.term_max_months, "rate_min": version.rate_min,
            "rate_max": version.rate_max, "repayment_methods": version.repayment_methods,
            "collateral_types": version.collateral_types, "day_count": version.day_count,
            "source_citation": version.source_citation}
    data.update(changes)
    return data


def _condition_post(condition, **changes):
    value = condition.value
    data = {"code": condition.code, "fact": condition.fact, "operator": condition.operator,
            "value": ", ".join(value) if isinstance(value, list) else value,
            "reason_en": condition.reason_en, "reason_zh": condition.reason_zh,
            "source_citation": condition.source_citation, "evidence": condition.evidence,
            "effective_from": ""}
    data.update(changes)
    return data


def test_a_draft_starts_as_a_copy_of_the_newest_version(world, officers):
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=officers[0])

    assert (draft.version, draft.state, draft.created_by) == (2, "draft", officers[0])
    assert sorted(draft.conditions.values_list("code", flat=True)) == sorted(
        world.version.conditions.values_list("code", flat=True))
    assert draft.amount_max == world.version.amount_max
    assert product_version_diff(draft=draft, in_force=world.version) == []
    assert AuditEvent.objects.filter(action="product_version.copied").count() == 1


def test_editing_terms_checks_every_field_and_saves_nothing_on_refusal(client, world, officers):
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=officers[0])
    client.force_login(officers[0])
    url = reverse("products:workbench-version", args=[draft.pk])

    refused = client.post(url, _terms(draft, rate_max="9.5", amount_max="10"))

    assert refused.status_code == 400
    assert "The maximum amount is below the minimum." in refused.content.decode()
    draft.refresh_from_db()
    assert draft.rate_max != Decimal("9.5")  # the valid field was not saved either

    chinese = client.post(url, _terms(draft, amount_max="10"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "最高金额低于最低金额。" in chinese.content.decode()

    saved = client.post(url, _terms(draft, rate_max="9.5"))
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.rate_max == Decimal("9.5")


def test_a_condition_edit_is_validated_and_shown_in_the_diff(client, world, officers):
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=officers[0])
    condition = draft.conditions.get(code="tax-rating")
    client.force_login(officers[0])
    url = reverse("products:workbench-condition", args=[condition.pk])

    bad = client.post(url, _condition_post(condition, value="Z"))
    assert bad.status_code == 400
    assert "is not one of" in bad.content.decode()
    condition.refresh_from_db()
    assert "Z" not in condition.value

    assert client.post(url, _condition_post(condition, value="A, B")).status_code == 302
    page = client.get(reverse("products:workbench-version", args=[draft.pk])).content.decode()
    assert "Entry condition tax-rating changes from" in page
    assert AuditEvent.objects.filter(action="entry_condition.changed").count() == 1


def test_publishing_is_four_eyes_and_retires_the_version_in_force(client, world, officers):
    drafter, checker = officers
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=drafter)
    url = reverse("products:workbench-publish", args=[draft.pk])
    today = timezone.localdate().isoformat()

    client.force_login(drafter)
    refused = client.post(url, {"effective_from": today})
    assert refused.status_code == 403
    assert "Four-eyes rule" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.state == ProductVersionState.DRAFT

    client.force_login(checker)
    assert client.post(url, {"effective_from": today}).status_code == 302
    draft.refresh_from_db()
    world.version.refresh_from_db()
    assert (draft.state, draft.published_by) == (ProductVersionState.PUBLISHED, checker)
    assert world.version.state == ProductVersionState.RETIRED
    assert world.version.effective_to == timezone.localdate()
    # Published again: 409, not a second publication.
    assert client.post(url, {"effective_from": today}).status_code == 409


def test_a_published_version_and_its_conditions_are_frozen(world, officers):
    version = world.version
    with pytest.raises(VersionFrozen):
        services.product_version_update(version_id=version.pk, actor=officers[0],
                                        rate_max=Decimal("9"))
    with pytest.raises(VersionFrozen):
        EntryCondition.objects.filter(version=version).first().save()
    with pytest.raises(VersionFrozen):
        ProductVersion.objects.get(pk=version.pk).save()


def test_retire_withdraws_a_version_and_needs_the_publish_permission(client, world, officers):
    client.force_login(officers[1])
    url = reverse("products:workbench-retire", args=[world.version.pk])
    assert client.post(url, {"effective_to": "", "reason": "x"}).status_code == 400

    ok = client.post(url, {"effective_to": timezone.localdate().isoformat(),
                           "reason": "No longer sold"})
    assert ok.status_code == 302
    world.version.refresh_from_db()
    assert world.version.state == ProductVersionState.RETIRED
    event = AuditEvent.objects.filter(action="product_version.retired").get()
    assert event.payload["reason"] == "No longer sold"
    with pytest.raises(PermissionDenied):
        services.product_version_retire(version_id=world.version.pk,
                                        actor=world.user("am.north"))


@pytest.mark.parametrize("username", ["admin.north", "lead.north", "am.north", "approver.north",
                                      "auditor.south"])
def test_other_roles_are_refused_every_workbench_page(client, world, officers, username):
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=officers[0])
    client.force_login(world.user(username))
    today = dt.date.today().isoformat()
    assert client.get(reverse("products:workbench")).status_code == 403
    assert client.get(reverse("products:workbench-version", args=[draft.pk])).status_code == 403
    assert client.post(reverse("products:workbench-publish", args=[draft.pk]),
                       {"effective_from": today}).status_code == 403
    assert client.post(reverse("products:workbench-draft", args=["tax-credit-loan"])
                       ).status_code == 403
    draft.refresh_from_db()
    assert draft.state == ProductVersionState.DRAFT


def test_the_workbench_lists_products_with_the_version_in_force(client, world, officers):
    client.force_login(officers[0])
    page = client.get(reverse("products:workbench"))
    assert page.status_code == 200
    assert 'data-product="tax-credit-loan"' in page.content.decode()
    assert client.post(reverse("products:workbench-draft", args=["tax-credit-loan"])
                       ).status_code == 302
    assert ProductVersion.objects.filter(product=world.version.product,
                                         state=ProductVersionState.DRAFT).count() == 1


def test_unknown_terms_are_refused_by_name(world, officers):
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=officers[0])
    with pytest.raises(ValidationError) as refused:
        services.product_version_update(version_id=draft.pk, actor=officers[0], state="x")
    assert "state" in refused.value.message_dict


def test_the_impact_preview_counts_who_a_tighter_condition_shuts_out(client, world, officers):
    from apps.demo.lifecycle import walk_to_state
    from apps.products.impact import entry_condition_impact
    from apps.products.report import Population

    walk_to_state(world.draft(enterprise=world.enterprise(employees=3)), "submitted",
                  branch_code="north")
    world.draft(enterprise=world.enterprise(employees=30))
    draft = services.product_version_draft_next(product_id=world.version.product_id,
                                                actor=officers[0])
    services.entry_condition_add(version=draft, code="staff", fact="employees", operator="gte",
                                 value="10", reason_en="At least 10 employees",
                                 reason_zh="从业人员不少于10人", actor=officers[0])

    impact = {line.population: line for line in entry_condition_impact(
        viewer=world.user("admin.north"), draft=draft, in_force=world.version,
        on=timezone.localdate())}
    applicants = impact[Population.APPLICANTS]
    assert (applicants.enterprises, applicants.newly_admitted, applicants.newly_excluded) == (
        2, 0, 1)
    assert applicants.admitted_before - applicants.admitted_after == 1
    assert impact[Population.CUSTOMERS].newly_excluded >= 1

    client.force_login(officers[1])
    page = client.get(reverse("products:workbench-version", args=[draft.pk])).content.decode()
    assert "Impact if published today" in page
    assert 'data-population="applicants"' in page and "1 newly excluded" in page


def test_export_import_round_trip_makes_an_identical_draft(client, world, officers):
    import io

    import yaml

    client.force_login(officers[0])
    exported = client.get(reverse("products:workbench-export",
                                  args=[world.version.pk, "yaml"]))
    assert exported.status_code == 200
    document = yaml.safe_load(exported.content.decode())
    as_json = client.get(reverse("products:workbench-export", args=[world.version.pk, "json"]))
    assert as_json.json() == document

    upload = io.BytesIO(yaml.safe_dump(document, allow_unicode=True).encode())
    upload.name = "product.yaml"
    response = client.post(reverse("products:workbench-import"), {"document": upload})
    assert response.status_code == 302
    draft = ProductVersion.objects.get(product=world.version.product, version=2)
    assert (draft.state, draft.created_by) == (ProductVersionState.DRAFT, officers[0])
    again = services.product_version_export(draft)
    assert {**again, "version": 1} == document
    assert product_version_diff(draft=draft, in_force=world.version) == []


def test_a_bad_import_is_refused_by_path_and_writes_nothing(client, world, officers):
    document = services.product_version_export(world.version)
    document["terms"]["amount_max"] = "1"
    document["conditions"][0]["value"] = "not-a-rating"
    document["conditions"][0]["operator"] = "eq"
    before = ProductVersion.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.product_version_import(document, actor=officers[0])
    assert "terms.amount_max" in refused.value.message_dict
    assert any(path.startswith("conditions.0") for path in refused.value.message_dict)
    assert ProductVersion.objects.count() == before
    with pytest.raises(PermissionDenied):
        services.product_version_import(document, actor=world.user("am.north"))
