"""The admin path: publishing through the service (gaps refused by name, four-eyes), rows of a
draft audited, signatures and routes read-only."""

import pytest
from django.urls import reverse

from apps.approvals.models import AuthorityMatrix
from apps.approvals.seed import BRANCH_APPROVER
from apps.approvals.services import authority_matrix_draft, authority_rule_add
from apps.approvals.states import MatrixState
from apps.audit.models import AuditEvent
from apps.products.models import CreditProduct


@pytest.fixture
def admin_client(world, client):
    client.force_login(world.user("admin.north"))
    return client


def test_publishing_a_matrix_with_gaps_is_refused_by_name(world, admin_client):
    matrix = authority_matrix_draft(name="gappy", grades=["A"], actor=world.user("admin.south"))
    authority_rule_add(matrix_id=matrix.pk, product=CreditProduct.objects.first(),
                       amount_above=0, amount_up_to=1000, grades=["A"], policy_exception=False,
                       steps=[BRANCH_APPROVER])
    response = admin_client.post(
        reverse("admin:approvals_authoritymatrix_changelist"),
        {"action": "publish_today", "_selected_action": [matrix.pk]}, follow=True)
    page = response.content.decode()
    assert "Gap" in page and "above 1,000" in page
    matrix.refresh_from_db()
    assert matrix.state == MatrixState.DRAFT


def test_a_drafter_cannot_publish_in_the_admin_either(world, admin_client):
    from apps.approvals.tests.factories import publish_matrix

    publish_matrix([BRANCH_APPROVER])  # a valid matrix exists; now an admin drafts their own
    matrix = authority_matrix_draft(name="mine", grades=["A"], actor=world.user("admin.north"))
    admin_client.post(reverse("admin:approvals_authoritymatrix_changelist"),
                      {"action": "publish_today", "_selected_action": [matrix.pk]})
    matrix.refresh_from_db()
    assert matrix.state == MatrixState.DRAFT


def test_a_new_matrix_in_the_admin_is_audited(world, admin_client):
    response = admin_client.post(reverse("admin:approvals_authoritymatrix_add"), {
        "name": "From the admin", "version": 7, "grades": '["A"]', "source_citation": "x",
        "rules-TOTAL_FORMS": 1, "rules-INITIAL_FORMS": 0, "rules-MIN_NUM_FORMS": 0,
        "rules-MAX_NUM_FORMS": 1000,
        "rules-0-row": 1, "rules-0-product": CreditProduct.objects.first().pk,
        "rules-0-amount_above": "0", "rules-0-amount_up_to": "", "rules-0-grades": '["A"]',
        "rules-0-steps": '[{"kind": "individual", "level": 1, "label": "x", '
                         '"deadline_hours": 8, "remind_after_hours": 4}]',
        "rules-0-evidence": "G", "rules-0-source_citation": "x"})
    assert response.status_code == 302, response.content.decode()[:2000]
    matrix = AuthorityMatrix.objects.get(version=7)
    assert matrix.created_by == world.user("admin.north")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"authority_matrix.created", "authority_rule.added"} <= actions


def test_sign_offs_are_read_only_in_the_admin(world, admin_client):
    response = admin_client.get(reverse("admin:approvals_signoff_add"))
    assert response.status_code == 403
