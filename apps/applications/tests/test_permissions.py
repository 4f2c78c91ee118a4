"""Who may make each move: roles, branches, and segregation of duties (审贷分离)."""

import pytest
from django.core.exceptions import PermissionDenied

from apps.accounts.roles import Role
from apps.accounts.services import user_create
from apps.applications import services
from apps.applications.guards import register_conflict_source
from apps.applications.selectors import application_get, application_list
from apps.applications.states import ApplicationState as S

pytestmark = pytest.mark.django_db


def test_other_branch_cannot_see_or_move_the_file(world):
    app = world.in_state(S.UNDER_REVIEW)
    outsider = world.user("reviewer.south")
    assert not application_list(viewer=outsider).filter(pk=app.pk).exists()
    from django.http import Http404
    with pytest.raises(Http404):
        application_get(viewer=outsider, application_id=app.pk)
    with pytest.raises(PermissionDenied):
        services.application_send_to_approval(application_id=app.pk, actor=outsider)


def test_account_manager_sees_only_own_files_team_lead_sees_branch(world):
    mine = world.draft()
    other_am = user_create(username="am2.north", password=None, branch=world.north,
                           roles=[Role.ACCOUNT_MANAGER])
    theirs = services.application_create(enterprise=world.enterprise(),
                                         product_version=world.version, actor=other_am)
    visible = set(application_list(viewer=world.user("am.north")).values_list("pk", flat=True))
    assert mine.pk in visible and theirs.pk not in visible
    lead_sees = set(application_list(viewer=world.user("lead.north")).values_list("pk", flat=True))
    assert {mine.pk, theirs.pk} <= lead_sees
    auditor_sees = application_list(viewer=world.user("auditor.south"))
    assert auditor_sees.filter(pk=mine.pk).exists()


def test_account_manager_cannot_review_own_file_even_with_reviewer_role(world):
    am = world.user("am.north")
    am.groups.add(__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get(
        name=Role.RISK_REVIEWER))
    am = world.user("am.north")
    app = world.in_state(S.UNDER_REVIEW)
    with pytest.raises(PermissionDenied):
        services.application_send_to_approval(application_id=app.pk, actor=am)


def test_reviewer_cannot_also_approve(world):
    dual = user_create(username="dual.north", password=None, branch=world.north,
                       roles=[Role.RISK_REVIEWER, Role.APPROVER])
    app = world.in_state(S.UNDER_REVIEW)
    from apps.approvals.seed import seed_approvals
    from apps.approvals.services import review_send_to_approval

    seed_approvals()
    review_send_to_approval(application_id=app.pk, actor=dual, risks="Thin margins.")
    with pytest.raises(PermissionDenied):
        services.application_approve(application_id=app.pk, actor=dual, reason="ok")


def test_superuser_has_no_bypass(world):
    boss = user_create(username="boss", password=None, branch=world.north, roles=[])
    boss.is_superuser = True
    boss.save()
    app = world.in_state(S.IN_APPROVAL)
    with pytest.raises(PermissionDenied):
        services.application_approve(application_id=app.pk, actor=boss, reason="ok")


def test_investigators_registered_by_later_apps_are_excluded(world):
    reviewer = world.user("reviewer.north")

    def investigators(application):
        return {reviewer.pk}

    register_conflict_source(investigators)
    try:
        app = world.in_state(S.UNDER_REVIEW)
        with pytest.raises(PermissionDenied):
            services.application_send_to_approval(application_id=app.pk, actor=reviewer)
    finally:
        from apps.applications import guards
        guards._conflict_sources.remove(investigators)


@pytest.mark.parametrize("username", ["am.north", "reviewer.north", "approver.north"])
def test_disbursement_is_independent(world, username):
    app = world.in_state(S.APPROVED)
    with pytest.raises(PermissionDenied):
        services.application_contract(application_id=app.pk, actor=world.user(username))


def test_only_prepare_roles_open_applications(world):
    with pytest.raises(PermissionDenied):
        services.application_create(enterprise=world.enterprise(),
                                    product_version=world.version,
                                    actor=world.user("reviewer.north"))


def test_cannot_open_for_another_branchs_enterprise(world):
    with pytest.raises(PermissionDenied):
        world.draft(enterprise=world.enterprise(branch=world.south))
