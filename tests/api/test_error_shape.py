"""Every API error answers {code, detail, fields}; pages keep HTML pages without tracebacks."""

import pytest
from django.test import Client

from apps.demo.seed import seed_demo

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "detail", "fields"}


@pytest.fixture
def approver_client():
    seed_demo()
    from apps.accounts.models import User

    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="approver.north"))
    return client


def _assert_error(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert body["fields"] == {}
    return body


def test_unknown_api_path_is_json_404(approver_client):
    _assert_error(approver_client.get("/api/v1/nothing-here/"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/applications/abc/", "/api/v1/applications/-1/",
                                  "/api/v1/applications/%C2%B2/",
                                  "/api/v1/applications/99999999999999999999999/"])
def test_malformed_or_huge_path_id_is_json_404(approver_client, path):
    _assert_error(approver_client.get(path), 404, "not_found")


def test_anonymous_unknown_api_path_is_json_too():
    _assert_error(Client().get("/api/nothing/"), 404, "not_found")


def test_wrong_method_is_json_405(approver_client):
    _assert_error(approver_client.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_bad_json_is_json_400(approver_client):
    response = approver_client.post("/api/v1/enterprises/", data="{not json",
                                    content_type="application/json")
    _assert_error(response, 400, "parse_error")


@pytest.mark.urls("tests.api.raising_urls")
def test_uncaught_exception_in_api_is_json_500_without_internals(approver_client):
    body = _assert_error(approver_client.get("/api/v1/raise/"), 500, "server_error")
    assert "secret-internal-detail" not in body["detail"]
    assert "Traceback" not in body["detail"]


@pytest.mark.urls("tests.api.raising_urls")
def test_uncaught_exception_in_a_page_is_the_html_500_page(approver_client):
    response = approver_client.get("/raise/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "Something went wrong" in text
    assert "secret-internal-detail" not in text and "Traceback" not in text


def test_unknown_page_is_the_html_404_page(approver_client):
    response = approver_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()
