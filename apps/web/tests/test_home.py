import pytest
from django.urls import reverse

from apps.accounts.roles import Role
from apps.demo.seed import DEMO_ROLE_PREFIX
from apps.web.role_home import role_panels


@pytest.mark.parametrize("role", list(Role))
def test_each_demo_role_sees_its_own_panel(client, user_named, role):
    user = user_named(f"{DEMO_ROLE_PREFIX[role]}.north")
    client.force_login(user)

    response = client.get(reverse("web:home"))

    assert response.status_code == 200
    assert [panel["role"] for panel in response.context["panels"]] == [role]
    html = response.content.decode()
    assert f'data-role="{role}"' in html
    assert html.count('class="card panel"') == 1
    assert "North Branch" in html


def test_a_user_without_roles_is_told_to_ask_for_one(client, django_user_model, db):
    client.force_login(django_user_model.objects.create_user("norole", password="x" * 12))

    response = client.get(reverse("web:home"))

    assert response.status_code == 200
    assert "You hold no role yet" in response.content.decode()


def test_panels_follow_the_roles_held(user_named):
    assert [p["role"] for p in role_panels(user_named("auditor.south"))] == [Role.AUDITOR]


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/"


@pytest.mark.parametrize("username, sees_status", [
    ("admin.north", True),
    ("admin.south", True),
    ("am.north", False),
    ("auditor.south", False),
    ("approver.north", False),
])
def test_system_status_is_in_the_menu_of_admins_only(client, user_named, username, sees_status):
    client.force_login(user_named(username))

    html = client.get(reverse("web:home")).content.decode()

    assert (f'href="{reverse("web:system-status")}"' in html) is sees_status
    assert f'href="{reverse("web:home")}" aria-current="page"' in html


def test_the_shell_has_the_accessibility_basics(client, user_named):
    client.force_login(user_named("am.north"))

    html = client.get(reverse("web:home")).content.decode()

    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert 'aria-controls="site-menu"' in html
    assert '<label for="language-select"' in html


def test_the_approver_card_counts_what_waits_for_them_as_the_inbox_does(world):
    """Issue #18: the home card said 3 while the approver's inbox was empty (it counted every
    file in approval in the branch, most of them routed to a committee)."""
    from apps.approvals.seed import BRANCH_COMMITTEE
    from apps.approvals.selectors import inbox_count
    from apps.approvals.tests.factories import in_approval

    in_approval(world, steps=(BRANCH_COMMITTEE,))  # in approval, but not the approver's
    approver = world.user("approver.north")
    links = next(p for p in role_panels(approver) if p["role"] == Role.APPROVER)["links"]
    assert links[0]["url"] == reverse("approvals:inbox")
    assert links[0]["count"] == inbox_count(viewer=approver) == 0
    assert links[1]["count"] == 1  # the branch's files in approval, named as such
    member = world.user("committee.north")
    links = next(p for p in role_panels(member) if p["role"] == Role.COMMITTEE_MEMBER)["links"]
    assert links[0]["count"] == inbox_count(viewer=member) == 1
