"""Only auditors and administrators reach the audit pages; auditors change nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from apps.accounts.roles import ROLE_PERMISSIONS, Role
from apps.applications import services as application_services
from apps.audit.models import AuditEvent
from apps.demo.seed import DEMO_ROLE_PREFIX as PREFIX  # one list of demo users, every role

pytestmark = pytest.mark.django_db

REFUSED = [role for role in Role if role not in (Role.AUDITOR, Role.ADMIN)]


def _pages(application_id: int) -> list[tuple[str, str]]:
    return [("get", reverse("oversight:events")),
            ("get", reverse("oversight:events-csv")),
            ("get", reverse("oversight:events-json")),
            ("post", reverse("oversight:events-xlsx")),
            ("get", reverse("oversight:jobs")),
            ("get", reverse("oversight:trail", args=[application_id])),
            ("get", reverse("oversight:pack", args=[application_id])),
            ("post", reverse("oversight:pdf", args=[application_id, "trail"])),
            ("get", reverse("oversight:integrity")),
            ("post", reverse("oversight:integrity"))]


def test_every_other_role_gets_403_on_every_page(world, client_as):
    """One world for all roles (building it is the slow part), every role, every page."""
    from apps.oversight.tests.exemption_factories import committee_member

    committee_member(world, "exempt.north")  # no demo account holds this role
    application = world.draft()
    pages = _pages(application.pk)
    for role in REFUSED:
        client = client_as(f"{PREFIX[role]}.north")
        for method, url in pages:
            response = getattr(client, method)(url)
            assert response.status_code == 403, (role, url, response.status_code)
    # Each refusal is itself evidence (the 403 handler records it).
    assert AuditEvent.objects.filter(action="auth.permission_refused").count() == (
        len(REFUSED) * len(pages))


def test_auditors_and_admins_reach_every_page(world, client_as):
    application = world.draft()
    for username in ("auditor.north", "admin.north"):
        client = client_as(username)
        for method, url in _pages(application.pk):
            response = getattr(client, method)(url)
            assert response.status_code in (200, 302), (username, url, response.status_code)


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("oversight:events"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_auditor_role_holds_no_write_permission():
    codes = ROLE_PERMISSIONS[Role.AUDITOR]
    assert codes, "the auditor role has permissions"
    writes = [code for code in codes
              if code.split(".", 1)[1].startswith(("add_", "change_", "delete_", "publish_"))]
    assert writes == []


def test_auditor_cannot_move_or_edit_an_application(world):
    application = world.in_state("under_review")
    auditor = world.user("auditor.north")
    with pytest.raises(PermissionDenied):
        application_services.application_return_for_rework(
            application_id=application.pk, actor=auditor, comment="not mine to do")
    draft = world.draft()
    with pytest.raises(PermissionDenied):
        application_services.application_update(application_id=draft.pk, actor=auditor,
                                                 purpose="changed")


def test_auditor_sees_events_of_every_branch(world, client_as):
    from apps.applications import services

    north = world.draft()
    south = services.application_create(
        enterprise=world.enterprise(branch=world.south), product_version=world.version,
        actor=world.user("am.south"), amount_requested=500000, term_months=12)
    page = client_as("auditor.north").get(reverse("oversight:events"),
                                          {"action": "application.created"})
    text = page.content.decode()
    assert page.status_code == 200
    for application in (north, south):
        assert reverse("oversight:trail", args=[application.pk]) in text
