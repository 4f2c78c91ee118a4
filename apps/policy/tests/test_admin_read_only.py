"""Issue 17: Django admin is read-only for every kind of policy data the workbench governs.
A superuser's add, change or delete in the admin is refused (403) and leaves the rows as they
were; the pages still render, to read; inlines show their rows without a way to edit them."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse

from apps.accounts.models import User
from apps.core.admin import ReadOnlyAdminMixin
from apps.core.models import PolicyVersionPart, PublishedVersion

pytestmark = pytest.mark.django_db

# Every model the policy workbench governs, with a row in the seed world.
GOVERNED = [
    "products.creditproduct", "products.productversion",
    "investigations.policyvalue", "investigations.checklisttemplate",
    "scoring.decisionpolicy",
    "approvals.authoritymatrix",
    "documents.documentrequirementset", "documents.documentrequirement",
    "oversight.dutyruleset",
    "monitoring.signalrule", "monitoring.levelactiontable",
]


@pytest.fixture
def root(world, client):
    """A superuser, and a row of every governed kind (seeded, or drafted by the services)."""
    from apps.approvals.seed import seed_matrix
    from apps.documents.requirement_services import requirement_set_draft
    from apps.documents.seed import seed_documents
    from apps.investigations.seed import seed_builtin_templates
    from apps.monitoring.seed import seed_monitoring
    from apps.scoring.services.registry import decision_policy_ensure

    user = User.objects.create_superuser(username="root", email="root@example.com",
                                         password="x-not-used-x")
    seed_builtin_templates()
    seed_matrix()
    seed_monitoring()
    decision_policy_ensure()
    seed_documents(with_requirements=True)
    requirement_set_draft(product_id=world.version.product_id, actor=user)
    client.force_login(user)
    return user


def _model(label):
    return apps.get_model(label)


def _row(model):
    row = model._base_manager.order_by("pk").first()
    assert row is not None, f"the seed world has no {model._meta.label}"
    return row


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("label", GOVERNED)
def test_the_admin_pages_render_to_read(label, root, client):
    model = _model(label)
    row = _row(model)
    listing = client.get(_url(model, "changelist"))
    assert listing.status_code == 200
    assert _url(model, "add") not in listing.content.decode()
    page = client.get(_url(model, "change", row.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html


@pytest.mark.parametrize("label", GOVERNED)
def test_a_superusers_posts_cannot_alter_rows(label, root, client):
    model = _model(label)
    row = _row(model)
    before, count = model_to_dict(row), model._base_manager.count()
    assert client.get(_url(model, "add")).status_code == 403
    assert client.post(_url(model, "add"), {"version": "99"}).status_code == 403
    assert client.post(_url(model, "change", row.pk),
                       {"version": "99", "_save": "Save"}).status_code == 403
    assert client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    client.post(_url(model, "changelist"),
                {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    row.refresh_from_db()
    assert model_to_dict(row) == before
    assert model._base_manager.count() == count


def test_every_policy_model_in_the_admin_is_read_only_with_its_inlines(root):
    """A guard for kinds to come: any admin of versioned policy data (or of a row of one) uses
    the shared read-only mixin, and so do all its inlines."""
    request = RequestFactory().get("/")
    request.user = root
    governed = {_model(label) for label in GOVERNED}
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not (issubclass(model, PublishedVersion | PolicyVersionPart) or model in governed):
            continue
        assert isinstance(model_admin, ReadOnlyAdminMixin), model._meta.label
        row = model._base_manager.order_by("pk").first()
        for inline in model_admin.get_inline_instances(request, row):
            assert not inline.has_add_permission(request, row), (model, inline)
            assert not inline.has_change_permission(request, row), (model, inline)
            assert not inline.has_delete_permission(request, row), (model, inline)
        checked += 1
    assert checked >= len(GOVERNED)
