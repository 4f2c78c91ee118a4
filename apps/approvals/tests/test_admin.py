"""The admin path: the authority matrix is read-only there (it changes only in the policy
workbench, through the services: gap/overlap check, four-eyes, audit); signatures and routes
are read-only too."""

import pytest
from django.urls import reverse

from apps.approvals.models import AuthorityMatrix
from apps.approvals.services import authority_matrix_draft


@pytest.fixture
def admin_client(world, client):
    client.force_login(world.user("admin.north"))
    return client


def test_the_admin_has_no_publish_action_for_a_matrix(world, admin_client):
    matrix = authority_matrix_draft(name="draft", grades=["A"], actor=world.user("admin.south"))
    response = admin_client.post(
        reverse("admin:approvals_authoritymatrix_changelist"),
        {"action": "publish_today", "_selected_action": [matrix.pk]})
    assert response.status_code in (200, 302, 403)
    matrix.refresh_from_db()
    assert matrix.state == "draft"
    assert AuthorityMatrix.objects.filter(name="draft").count() == 1


def test_sign_offs_are_read_only_in_the_admin(world, admin_client):
    response = admin_client.get(reverse("admin:approvals_signoff_add"))
    assert response.status_code == 403
