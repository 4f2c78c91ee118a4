import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from apps.audit.models import AuditEvent
from apps.demo.seed import DEMO_PASSWORD, seed_demo

LOGIN_URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def english_afterwards():
    # LocaleMiddleware leaves the last request's language active in this thread.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def demo_user(db, django_user_model):
    with translation.override("en"):
        seed_demo()
    return django_user_model.objects.get(username="am.north")


def _sign_in(client, username, password, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password},
                       **extra)


def test_login_url_is_stable():
    assert reverse("accounts:login") == LOGIN_URL


def test_login_page_has_labelled_fields(client, db):
    html = client.get(reverse("accounts:login")).content.decode()

    assert '<label for="id_username">' in html and 'id="id_username"' in html
    assert 'autocomplete="current-password"' in html
    assert 'aria-invalid' not in html


def test_login_goes_home_and_is_audited(client, demo_user):
    response = _sign_in(client, "am.north", DEMO_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor_id == demo_user.pk
    assert (event.subject_type, event.subject_id) == ("accounts.user", str(demo_user.pk))


def test_login_honours_next(client, demo_user):
    response = client.post(f"{reverse('accounts:login')}?next=/system/",
                           {"username": "am.north", "password": DEMO_PASSWORD, "next": "/system/"})

    assert response["Location"] == "/system/"


def test_bad_password_shows_an_error_and_is_audited(client, demo_user):
    response = _sign_in(client, "am.north", "wrong-password")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Your username and password did not match" in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert 'value="am.north"' in html  # no retyping the username
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor_id is None
    assert (event.subject_type, event.subject_id) == ("accounts.user", "am.north")


def test_empty_fields_get_their_own_messages(client, db):
    html = _sign_in(client, "", "").content.decode()

    assert "Enter your username." in html and "Enter your password." in html
    assert "did not match" not in html


def test_lockout_after_the_failure_limit(client, demo_user):
    limit = settings.AXES_FAILURE_LIMIT
    for _attempt in range(limit - 1):
        assert _sign_in(client, "am.north", "wrong-password").status_code == 200

    locked = _sign_in(client, "am.north", "wrong-password")

    assert locked.status_code == 429
    assert "Account locked" in locked.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == limit
    event = AuditEvent.objects.get(action="auth.locked_out")
    assert event.subject_id == "am.north"

    # Locked means locked: the right password does not get in either.
    again = _sign_in(client, "am.north", DEMO_PASSWORD)
    assert again.status_code == 429
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account(client, demo_user):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "am.north", "wrong-password")

    assert _sign_in(client, "am.south", DEMO_PASSWORD).status_code == 302


def test_logout_by_post_is_audited(client, demo_user):
    _sign_in(client, "am.north", DEMO_PASSWORD)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="auth.logout").actor_id == demo_user.pk


def test_logout_refuses_get(client, demo_user):
    client.force_login(demo_user)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "_auth_user_id" in client.session


def test_language_switch_to_simplified_chinese(client, db):
    response = client.post(reverse("set_language"),
                           {"language": "zh-hans", "next": reverse("accounts:login")})

    assert response.status_code == 302
    page = client.get(reverse("accounts:login"))
    html = page.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "Sign in" not in html


def test_chinese_error_message(client, demo_user):
    html = _sign_in(client, "am.north", "wrong-password",
                    HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()

    assert "用户名或密码不正确" in html


def test_locked_out_page_in_chinese(client, demo_user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = _sign_in(client, "am.north", "wrong-password")

    assert response.status_code == 429
    assert "账户已锁定" in response.content.decode()
