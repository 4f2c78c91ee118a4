"""The one policy-version machine, the same for every kind (issue 17): four-eyes publish,
supersede, retire, frozen once published (the version and its rows), audited, 403 before 409."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.accounts.models import User
from apps.approvals.models import AuthorityMatrix
from apps.approvals.services import authority_matrix_draft, authority_rule_add
from apps.approvals.tests.factories import publish_matrix
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict, VersionFrozen
from apps.core.policy import PolicyVersionState as S
from apps.investigations.models import ChecklistTemplate
from apps.investigations.services import template_import
from apps.investigations.tests.factories import template_data
from apps.policy.versioning import version_publish, version_retire, version_series
from apps.products import services as products
from apps.products.models import ProductVersion

pytestmark = pytest.mark.django_db


def _user(name, permission):
    user = User.objects.create_user(username=name, password="x")  # noqa: S106
    user.user_permissions.add(Permission.objects.get(codename=permission))
    return User.objects.get(pk=user.pk)


def _product_draft(world, actor):
    return products.product_version_draft_next(product_id=world.version.product_id, actor=actor)


def _template_draft(world, actor):
    template_import(template_data())  # v1, published below as the one in force
    first = ChecklistTemplate.objects.get(version=1)
    version_publish(model=ChecklistTemplate, pk=first.pk, actor=None)
    return template_import(template_data(version=2), actor=actor)


def _matrix_draft(world, actor):
    from apps.approvals.seed import BRANCH_APPROVER

    publish_matrix([BRANCH_APPROVER])
    from apps.products.models import CreditProduct

    draft = authority_matrix_draft(name="next", grades=["A"], actor=actor)
    for product in CreditProduct.objects.all():
        for exception in (False, True):
            authority_rule_add(matrix_id=draft.pk, product=product, amount_above=0,
                               amount_up_to=None, grades=["A"], policy_exception=exception,
                               steps=[BRANCH_APPROVER], actor=actor)
    return draft


KINDS = {
    "product": (ProductVersion, _product_draft, ("add_creditproduct", "change_creditproduct"),
                "publish_productversion", "conditions"),
    "template": (ChecklistTemplate, _template_draft, ("add_checklisttemplate",),
                 "publish_checklisttemplate", "items"),
    "matrix": (AuthorityMatrix, _matrix_draft, ("change_authoritymatrix",),
               "publish_authoritymatrix", "rules"),
}


@pytest.fixture(params=sorted(KINDS))
def kind(request, world):
    model, make, manage, publish, rows = KINDS[request.param]
    drafter = _user("drafter", publish)
    drafter.user_permissions.add(*Permission.objects.filter(codename__in=manage))
    drafter = User.objects.get(pk=drafter.pk)
    checker = _user("checker", publish)
    outsider = User.objects.create_user(username="outsider", password="x")  # noqa: S106
    draft = make(world, drafter)
    in_force = version_series(draft).filter(state=S.PUBLISHED).get()
    return {"model": model, "draft": draft, "in_force": in_force, "drafter": drafter,
            "checker": checker, "outsider": outsider, "rows": rows,
            "prefix": model.audit_prefix}


def test_the_drafter_never_publishes_and_an_outsider_gets_403_before_409(kind):
    model, draft = kind["model"], kind["draft"]
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        version_publish(model=model, pk=draft.pk, actor=kind["drafter"])
    with pytest.raises(PermissionDenied):
        version_publish(model=model, pk=draft.pk, actor=kind["outsider"])
    draft.refresh_from_db()
    assert draft.state == S.DRAFT
    # Already in force: the outsider still learns only "not you".
    with pytest.raises(PermissionDenied):
        version_retire(model=model, pk=kind["in_force"].pk, actor=kind["outsider"])


def test_a_second_person_publishes_and_the_series_predecessor_retires(kind):
    model, draft, old = kind["model"], kind["draft"], kind["in_force"]
    day = timezone.localdate() + dt.timedelta(days=3)
    published = version_publish(model=model, pk=draft.pk, actor=kind["checker"],
                                effective_from=day)
    old.refresh_from_db()
    assert (published.state, published.published_by, published.effective_from) == (
        S.PUBLISHED, kind["checker"], day)
    assert (old.state, old.effective_to) == (S.RETIRED, day)
    actions = list(AuditEvent.objects.order_by("-seq").values_list("action", flat=True)[:2])
    assert actions == [f"{kind['prefix']}.published", f"{kind['prefix']}.retired"]
    with pytest.raises(TransitionConflict):
        version_publish(model=model, pk=draft.pk, actor=kind["checker"])


def test_published_versions_and_their_rows_are_frozen(kind):
    model, old = kind["model"], kind["in_force"]
    with pytest.raises(VersionFrozen):
        model.objects.get(pk=old.pk).save()
    row = getattr(old, kind["rows"]).first()
    with pytest.raises(VersionFrozen):
        row.save()
    with pytest.raises(VersionFrozen):
        row.delete()
    # A draft's rows still change.
    getattr(kind["draft"], kind["rows"]).first().save()


def test_retire_withdraws_without_successor_and_is_audited(kind):
    model, old = kind["model"], kind["in_force"]
    retired = version_retire(model=model, pk=old.pk, actor=kind["checker"],
                             effective_to=timezone.localdate(), reason="withdrawn")
    assert retired.state == S.RETIRED
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.payload["reason"]) == (f"{kind['prefix']}.retired", "withdrawn")
    with pytest.raises(TransitionConflict):
        version_retire(model=model, pk=old.pk, actor=kind["checker"])


def test_a_version_is_never_put_in_force_in_the_past(kind):
    from django.core.exceptions import ValidationError

    model, draft = kind["model"], kind["draft"]
    with pytest.raises(ValidationError) as refused:
        version_publish(model=model, pk=draft.pk, actor=kind["checker"],
                        effective_from=timezone.localdate() - dt.timedelta(days=1))
    assert "effective_from" in refused.value.message_dict
    draft.refresh_from_db()
    kind["in_force"].refresh_from_db()
    assert (draft.state, kind["in_force"].state) == (S.DRAFT, S.PUBLISHED)
