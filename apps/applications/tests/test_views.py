from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import TERMS
from apps.audit.models import AuditEvent
from apps.parties.tests.factories import make_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(client, world, username):
    client.force_login(world.user(username))
    return client


def _action(client, application, action, **data):
    return client.post(reverse("applications:action", args=[application.pk, action]), data,
                       **HTMX)


def _html(response) -> str:
    return response.content.decode()


# --- lists -----------------------------------------------------------------------------------

def test_my_work_lists_my_open_files_only(client, world):
    mine = world.draft()
    closed = world.in_state(S.WITHDRAWN)
    theirs = world.draft()
    theirs.account_manager = world.user("lead.north")  # not an AM: never in am.north's list
    theirs.save()

    html = _html(_login(client, world, "am.north").get(reverse("applications:mine")))

    assert mine.reference in html
    assert closed.reference not in html
    assert theirs.reference not in html


def test_pipeline_counts_each_state_and_filters_by_state_and_manager(client, world):
    drafts = [world.draft(), world.draft()]
    submitted = world.in_state(S.SUBMITTED)
    _login(client, world, "lead.north")

    response = client.get(reverse("applications:list"))
    counts = {chip["state"]: chip["count"] for chip in response.context["chips"]}
    assert counts[S.DRAFT] == 2 and counts[S.SUBMITTED] == 1 and response.context["total"] == 3
    assert response.context["show_manager_filter"] is True

    filtered = _html(client.get(reverse("applications:list"), {"state": S.SUBMITTED}))
    assert submitted.reference in filtered
    assert all(draft.reference not in filtered for draft in drafts)

    other = make_user("am2.north", branch=world.north, roles=[Role.ACCOUNT_MANAGER])
    Application.objects.filter(pk=drafts[0].pk).update(account_manager=other)
    response = client.get(reverse("applications:list"), {"account_manager": other.pk})
    assert [a.pk for a in response.context["page"].object_list] == [drafts[0].pk]
    assert response.context["total"] == 1


def test_pipeline_of_the_other_branch_is_not_shown(client, world):
    north = world.draft()
    html = _html(_login(client, world, "lead.south").get(reverse("applications:list")))
    assert north.reference not in html


def test_account_managers_get_no_manager_filter(client, world):
    response = _login(client, world, "am.north").get(reverse("applications:list"))
    assert response.context["show_manager_filter"] is False
    assert 'name="account_manager"' not in _html(response)


def test_the_list_paginates_by_25(client, world):
    for _ in range(26):
        world.draft()
    _login(client, world, "lead.north")
    first = client.get(reverse("applications:list"))
    second = client.get(reverse("applications:list"), {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 1


@pytest.mark.parametrize("url_name", ["applications:list", "applications:mine"])
def test_list_queries_do_not_grow_with_rows(client, world, django_assert_max_num_queries,
                                            url_name):
    enterprise = world.enterprise()
    for _ in range(5):
        world.draft(enterprise=enterprise)
    _login(client, world, "lead.north" if url_name == "applications:list" else "am.north")
    client.get(reverse(url_name))  # warm the session and content-type caches

    with CaptureQueriesContext(connection) as five:
        assert client.get(reverse(url_name)).status_code == 200
    for _ in range(25):
        world.draft(enterprise=world.enterprise())
    with django_assert_max_num_queries(len(five)):
        response = client.get(reverse(url_name))
    assert len(response.context["page"].object_list) == 25


# --- the wizard ------------------------------------------------------------------------------

def test_wizard_shows_each_product_with_its_eligibility(client, world):
    enterprise = world.enterprise(tax_credit_rating="C")
    response = _login(client, world, "am.north").get(reverse("applications:new"),
                                                      {"enterprise": enterprise.pk})
    assert response.status_code == 200
    rows = {row["product"].code: row for row in response.context["eligibility"]}
    assert rows["tax-credit-loan"]["eligible"] is False
    assert [f["code"] for f in rows["tax-credit-loan"]["failures"]] == ["tax-rating"]
    assert "Tax credit rating A, B or M" in _html(response)


def test_wizard_shows_reasons_in_the_current_language(client, world):
    enterprise = world.enterprise(tax_credit_rating="C")
    _login(client, world, "am.north")
    with translation.override("zh-hans"):
        html = _html(client.get(reverse("applications:new"), {"enterprise": enterprise.pk},
                                HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "纳税信用等级为A、B或M级" in html


def test_wizard_creates_a_draft_through_the_service(client, world):
    enterprise = world.enterprise()
    _login(client, world, "am.north")
    data = {"enterprise": enterprise.pk, "product": world.version.pk, **TERMS}

    response = client.post(reverse("applications:new"), data)

    application = Application.objects.get(enterprise=enterprise)
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[application.pk])
    assert application.state == S.DRAFT
    assert application.amount_requested == Decimal("500000")
    assert application.account_manager == world.user("am.north")


def test_wizard_shows_the_services_field_errors_and_writes_nothing(client, world):
    enterprise = world.enterprise()
    _login(client, world, "am.north")
    data = {"enterprise": enterprise.pk, "product": world.version.pk,
            **TERMS, "amount_requested": "99000000", "term_months": "60"}

    response = client.post(reverse("applications:new"), data)

    assert response.status_code == 400
    form = response.context["form"]
    assert "This product lends" in form.errors["amount_requested"][0]
    assert "months" in form.errors["term_months"][0]
    html = _html(response)
    assert 'id="id_amount_requested_error"' in html
    assert 'aria-invalid="true"' in html
    assert not Application.objects.filter(enterprise=enterprise).exists()


def test_wizard_offers_only_the_products_methods(client, world):
    enterprise = world.enterprise()
    response = _login(client, world, "am.north").get(
        reverse("applications:new"), {"enterprise": enterprise.pk, "product": world.version.pk})
    choices = [value for value, _label in
               response.context["form"].fields["collateral_type"].choices if value]
    assert choices == ["none"]


def test_wizard_is_for_preparers_only(client, world):
    enterprise = world.enterprise()
    response = _login(client, world, "approver.north").get(reverse("applications:new"),
                                                           {"enterprise": enterprise.pk})
    assert response.status_code == 403


def test_wizard_does_not_open_another_branchs_customer(client, world):
    south = world.enterprise(branch=world.south)
    response = _login(client, world, "am.north").get(reverse("applications:new"),
                                                     {"enterprise": south.pk})
    assert response.status_code == 404


# --- the application page --------------------------------------------------------------------

def _action_names(response) -> list[str]:
    return [item["action"].name for item in response.context["actions"]]


def test_timeline_shows_each_move_with_actor_states_and_comment(client, world):
    application = world.in_state(S.RETURNED)
    response = _login(client, world, "am.north").get(
        reverse("applications:detail", args=[application.pk]))
    timeline = response.context["timeline"]
    assert [row["label"] for row in timeline][:2] == ["Application opened",
                                                       "Application submitted"]
    returned = timeline[-1]
    assert returned["label"] == "Returned for rework"
    assert (returned["from"], returned["to"]) == ("Under review", "Returned for rework")
    assert returned["actor"] == world.user("reviewer.north").display_name
    assert "premises lease" in returned["comment"]
    assert "Under review → Returned for rework" in _html(response)


# Moves a registered guard blocks get no button; their reasons are listed instead (a file in
# approval is decided on its route, and the reviewer sends on from the approvals dossier).
@pytest.mark.parametrize("username, state, expected, blocked", [
    ("am.north", S.DRAFT, ["submit", "withdraw"], []),
    ("am.north", S.IN_APPROVAL, [], []),
    ("reviewer.north", S.UNDER_REVIEW, ["return_for_rework", "reject"], ["send_to_approval"]),
    ("approver.north", S.IN_APPROVAL, [], ["approve", "return_for_rework", "reject"]),
    ("postloan.north", S.APPROVED, ["contract"], []),
    ("auditor.north", S.IN_APPROVAL, [], []),
])
def test_only_the_users_own_moves_are_offered(client, world, username, state, expected,
                                              blocked):
    application = world.draft() if state == S.DRAFT else world.in_state(state)
    response = _login(client, world, username).get(
        reverse("applications:detail", args=[application.pk]))
    assert _action_names(response) == expected
    assert [item["action"].name for item in response.context["blocked_actions"]] == blocked
    html = _html(response)
    for item in response.context["blocked_actions"]:
        assert f"action-{item['action'].name}" not in html
        assert all(escape(str(reason)) in html for reason in item["blocked"])


def test_other_branches_files_are_not_found(client, world):
    application = world.draft()
    response = _login(client, world, "lead.south").get(
        reverse("applications:detail", args=[application.pk]))
    assert response.status_code == 404


def test_submit_by_htmx_answers_with_the_new_state_in_place(client, world):
    application = world.draft()
    response = _action(_login(client, world, "am.north"), application, "submit")

    assert response.status_code == 200
    assert response.templates[0].name == "applications/partials/live.html"
    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert "Application submitted" in _html(response)


def test_without_htmx_a_move_redirects_back_to_the_page(client, world):
    application = world.draft()
    response = _login(client, world, "am.north").post(
        reverse("applications:action", args=[application.pk, "submit"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[application.pk])


def test_a_missing_comment_is_a_field_error_400(client, world):
    application = world.in_state(S.UNDER_REVIEW)
    response = _action(_login(client, world, "reviewer.north"), application,
                       "return_for_rework", comment="  ")

    assert response.status_code == 400
    assert response.context["failed"] == "return_for_rework"
    assert 'id="return_for_rework-comment-error"' in _html(response)
    application.refresh_from_db()
    assert application.state == S.UNDER_REVIEW


def test_an_ineligible_submission_is_409_with_every_reason(client, world):
    application = world.draft(enterprise=world.enterprise(tax_credit_rating="D",
                                                          annual_revenue=Decimal("10")))
    response = _action(_login(client, world, "am.north"), application, "submit")

    assert response.status_code == 409
    reasons = response.context["feedback"]["reasons"]
    assert any("tax-rating" in reason for reason in reasons)
    assert any("revenue-band" in reason for reason in reasons)
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_a_move_from_the_wrong_state_is_409(client, world):
    application = world.in_state(S.SUBMITTED)
    response = _action(_login(client, world, "am.north"), application, "submit")
    assert response.status_code == 409
    assert response.context["feedback"]["message"]


def test_a_move_that_is_not_yours_is_403_and_recorded(client, world):
    application = world.draft()
    response = _action(_login(client, world, "approver.north"), application, "submit")

    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"  # htmx does not swap 403: reload shows why
    assert AuditEvent.objects.filter(action="auth.permission_refused").exists()
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_approve_for_less_than_requested_keeps_both_amounts(client, world):
    """In approval the file is decided by signing its route on the approvals dossier."""
    from apps.demo.seed import DEMO_PASSWORD

    application = world.in_state(S.IN_APPROVAL)
    step = application.approval_routes.get().steps.get()
    response = _login(client, world, "approver.north").post(
        reverse("approvals:step-sign", args=[step.pk]),
        {"decision": "approve", "amount": "400000", "rate": "4.2",
         "reason": "Cash flow covers it.", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.APPROVED
    assert (application.amount_requested, application.amount_approved) == (
        Decimal("500000"), Decimal("400000"))


def test_an_unknown_action_is_not_found(client, world):
    application = world.draft()
    response = _action(_login(client, world, "am.north"), application, "explode")
    assert response.status_code == 404


def test_edit_goes_through_the_service(client, world):
    application = world.draft()
    _login(client, world, "am.north")
    url = reverse("applications:edit", args=[application.pk])

    bad = client.post(url, {**TERMS, "term_months": "48"})
    assert bad.status_code == 400 and "months" in bad.context["form"].errors["term_months"][0]

    good = client.post(url, {**TERMS, "amount_requested": "450000"})
    assert good.status_code == 302
    application.refresh_from_db()
    assert application.amount_requested == Decimal("450000")
    assert AuditEvent.objects.filter(action="application.updated",
                                     subject_id=str(application.pk)).exists()


def test_a_team_lead_reassigns_and_the_timeline_names_both(client, world):
    application = world.draft()
    other = make_user("am2.north", branch=world.north, roles=[Role.ACCOUNT_MANAGER])
    _login(client, world, "lead.north")

    response = client.post(reverse("applications:reassign", args=[application.pk]),
                           {"account_manager": other.pk}, **HTMX)

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.account_manager == other
    row = response.context["timeline"][-1]
    assert (row["from"], row["to"]) == (world.user("am.north").display_name, other.display_name)


def test_account_managers_cannot_reassign(client, world):
    application = world.draft()
    response = _login(client, world, "am.north").get(
        reverse("applications:detail", args=[application.pk]))
    assert response.context["reassign_form"] is None
