"""Page parameters and list filters: capped, strictly parsed, field-level 400 (issue #16)."""

import pytest
from django.test import override_settings
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from apps.core.pagination import BIGINT_MAX, is_whole_number, parse_whole_number
from apps.demo.seed import seed_demo

BAD_NUMBERS = ["abc", "²", "１", "-1", "1.5", " 1", "", str(BIGINT_MAX + 1),
               "9" * 40, "9223372036854775807" + "0"]


@pytest.mark.parametrize("raw", [r for r in BAD_NUMBERS if r])
def test_parse_refuses_anything_but_ascii_digits_in_range(raw):
    with pytest.raises(ValidationError) as raised:
        parse_whole_number(raw, field="offset")
    assert "offset" in raised.value.detail


def test_parse_accepts_the_range_and_defaults():
    assert parse_whole_number(None, field="x", default=7) == 7
    assert parse_whole_number("", field="x", default=7) == 7
    assert parse_whole_number(str(BIGINT_MAX), field="x") == BIGINT_MAX
    assert parse_whole_number("0", field="x") == 0
    with pytest.raises(ValidationError):
        parse_whole_number("0", field="x", minimum=1)
    with pytest.raises(ValidationError):
        parse_whole_number("201", field="x", maximum=200)


def test_is_whole_number():
    assert is_whole_number("42") and not is_whole_number("²") and not is_whole_number("-1")
    assert not is_whole_number(str(BIGINT_MAX + 1)) and is_whole_number(str(BIGINT_MAX))


@pytest.fixture
def api(db):
    seed_demo()
    from apps.accounts.models import User

    client = APIClient()
    client.force_login(User.objects.get(username="reviewer.north"))
    return client


@pytest.fixture
def auditor_api(db):
    seed_demo()
    from apps.accounts.models import User

    client = APIClient()
    client.force_login(User.objects.get(username="auditor.north"))
    return client


LISTS = ["/api/v1/applications/", "/api/v1/enterprises/", "/api/v1/investigations/",
         "/api/v1/reverifications/", "/api/v1/approvals/inbox/"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(("name", "raw"), [
    ("limit", "9223372036854775807"), ("limit", "99999999999999999999999"), ("limit", "²"),
    ("limit", "-1"), ("limit", "0"), ("limit", "abc"), ("limit", "201"),
    ("offset", "99999999999999999999999"), ("offset", "²"), ("offset", "-5"),
])
def test_every_list_refuses_bad_page_parameters_by_field(api, path, name, raw):
    response = api.get(path, {name: raw})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [name]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_accepts_the_largest_page(api, path):
    assert api.get(path, {"limit": "200", "offset": str(BIGINT_MAX)}).status_code == 200


@override_settings(API_MAX_PAGE_SIZE=3)
def test_the_cap_is_a_setting(api):
    assert api.get("/api/v1/enterprises/", {"limit": "3"}).status_code == 200
    assert api.get("/api/v1/enterprises/", {"limit": "4"}).status_code == 400


@pytest.mark.parametrize(("params", "field"), [
    ({"size": "²"}, "size"), ({"size": "9223372036854775808"}, "size"), ({"size": "0"}, "size"),
    ({"size": "201"}, "size"), ({"before": "²"}, "before"), ({"before": "-3"}, "before"),
    ({"application": "²"}, "application"), ({"enterprise": "²"}, "enterprise"),
    ({"application": "9" * 30}, "application"), ({"date_from": "2026-02-30"}, "date_from"),
    ({"branch": "²"}, "branch"), ({"branch": "9" * 30}, "branch"),
])
def test_audit_filters_refuse_malformed_values_by_field(auditor_api, params, field):
    response = auditor_api.get("/api/v1/oversight/events/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_audit_event_page_page(auditor_api, client):
    """The page ignores a hand-edited `before` instead of failing."""
    from apps.accounts.models import User

    client.force_login(User.objects.get(username="auditor.north"))
    assert client.get("/oversight/events/", {"action": "", "before": "²"}).status_code == 200
    response = client.get("/oversight/events/", {"application": "²"})
    assert response.status_code == 200
    assert "application" in response.context["form"].errors
