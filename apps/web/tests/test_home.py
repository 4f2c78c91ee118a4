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
