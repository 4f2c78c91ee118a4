"""The approver's inbox reads in at most 3 queries in all (issue #23 (5); was 12, then 7):
the branch scope, then the page with its total (``COUNT(*) OVER ()``), which is also the menu's
waiting count. What every signed-in page pays (session, user, roles, the menu's permission
check) is counted apart, and the whole page must not cost more than a bare page of the app."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.approvals.tests.factories import in_approval, under_review

# Tables every signed-in page reads before the view runs: the session, the user, their roles
# (groups) and the menu's permission check.
_SHELL = ('FROM "django_session"', 'FROM "accounts_user" ', 'FROM "auth_group" ',
          'FROM "auth_permission" ')


def _own(captured) -> list[str]:
    return [q["sql"] for q in captured if not any(t in q["sql"] for t in _SHELL)]


def _inbox(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("approvals:inbox"), params)
    assert response.status_code == 200
    return response.content.decode(), queries.captured_queries


def test_the_inbox_reads_in_at_most_three_queries_whatever_its_length(world, client):
    from apps.approvals.services import review_send_to_approval

    in_approval(world)
    client.force_login(world.user("approver.north"))
    _page, first = _inbox(client)  # the session's first page reads the rights and keeps them
    _page, one = _inbox(client)
    for _ in range(6):
        review_send_to_approval(application_id=under_review(world).pk,
                                actor=world.user("reviewer.north"), risks="x")
    page, seven = _inbox(client)
    assert page.count("approvals/applications/") >= 7
    assert len(_own(seven)) <= 3, _own(seven)
    assert len(seven) == len(one)
    # The whole page: the session, the user row, the page of steps with its total. Roles,
    # permissions and branch subtree come from the session (apps.accounts.authz).
    assert len(seven) <= 3, [q["sql"][:120] for q in seven]
    assert len(first) > len(one)
    # The page's total and the menu's number come from the one windowed query.
    assert "7 items wait for you" in page
    assert '<span class="count">7</span>' in page
    assert sum("COUNT(" in sql.upper() for sql in _own(seven)) == 1


def test_pages_past_the_first_and_past_the_end_keep_the_total(world, client):
    from apps.approvals import views
    from apps.approvals.services import review_send_to_approval

    in_approval(world)  # publishes the authority matrix, and is the first of three
    for _ in range(2):
        review_send_to_approval(application_id=under_review(world).pk,
                                actor=world.user("reviewer.north"), risks="x")
    client.force_login(world.user("approver.north"))
    original = views.INBOX_PAGE_SIZE
    views.INBOX_PAGE_SIZE = 2
    try:
        second, _q = _inbox(client, page=2)
        beyond, _q = _inbox(client, page=9)
    finally:
        views.INBOX_PAGE_SIZE = original
    assert "3 items wait for you" in second and "Page 2 of 2" in second
    assert second.count("approvals/applications/") == 1
    assert "3 items wait for you" in beyond and "Page 2 of 2" in beyond


def test_a_filtered_inbox_still_counts_the_whole_inbox_in_the_menu(world, client):
    in_approval(world)
    client.force_login(world.user("approver.north"))
    page, _q = _inbox(client, grade="Z")
    assert "Nothing waits for you." in page
    assert '<span class="count">1</span>' in page


def test_a_live_delegation_lends_its_level_to_the_inbox_inside_the_one_query(world):
    """The delegated level is computed in the query: a level-2 step waits for a level-1
    deputy only while a delegation from a level-2 head is live (not revoked, not future)."""
    import datetime as dt

    from django.utils import timezone

    from apps.approvals.seed import BRANCH_HEAD
    from apps.approvals.selectors import inbox_count, inbox_list
    from apps.approvals.services import delegation_grant, delegation_revoke

    _application, route = in_approval(world, steps=[BRANCH_HEAD])
    head, deputy = world.user("head.north"), world.user("approver.north")
    step = route.steps.get()
    assert inbox_count(viewer=deputy) == 0
    future = timezone.now() + dt.timedelta(days=3)
    delegation_grant(delegator=head, delegate=deputy, starts_at=future,
                     ends_at=future + dt.timedelta(days=1), reason="Later leave", actor=head)
    assert inbox_count(viewer=deputy) == 0
    live = delegation_grant(delegator=head, delegate=deputy, starts_at=timezone.now(),
                            ends_at=timezone.now() + dt.timedelta(days=1), reason="Leave",
                            actor=head)
    assert [s.pk for s in inbox_list(viewer=deputy)] == [step.pk]
    assert inbox_count(viewer=head) == 1
    delegation_revoke(delegation_id=live.pk, actor=head)
    assert inbox_count(viewer=deputy) == 0


def test_sorting_by_amount_reads_the_steps_copy_of_the_route_amount(world, client):
    """The inbox sorts by the step's own copy of its route's amount (an index over waiting
    steps); the copy is made when the route is frozen and is the route's amount."""
    from decimal import Decimal

    from apps.approvals.models import ApprovalStep
    from apps.approvals.selectors import inbox_list

    for amount in ("300000", "500000", "200000"):
        in_approval(world, proposed_amount=Decimal(amount))
    approver = world.user("approver.north")
    steps = list(ApprovalStep.objects.select_related("route"))
    assert len(steps) == 3
    assert all(s.amount_basis == s.route.amount_basis for s in steps)
    assert len({s.amount_basis for s in steps}) == 3
    by_route = sorted(steps, key=lambda s: s.route.amount_basis, reverse=True)
    assert [s.pk for s in inbox_list(viewer=approver, ordering="-amount")] == [
        s.pk for s in by_route]
    assert [s.pk for s in inbox_list(viewer=approver, ordering="amount")] == [
        s.pk for s in reversed(by_route)]
    client.force_login(approver)
    _inbox(client, sort="-amount")  # the session's first page keeps the rights
    page, queries = _inbox(client, sort="-amount")
    assert len(queries) <= 3, [q["sql"][:120] for q in queries]
    assert page.index(by_route[0].route.application.reference) < page.index(
        by_route[-1].route.application.reference)
