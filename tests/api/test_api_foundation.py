import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.demo.seed import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def approver():
    seed_demo()
    from apps.accounts.models import User

    return User.objects.get(username="approver.north")


def test_anonymous_call_is_401_in_the_error_format(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Token")


def test_token_authentication(api, approver):
    token = Token.objects.create(user=approver)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = api.get("/api/v1/me/").json()
    assert body["username"] == "approver.north"
    assert body["roles"] == ["approver"]
    assert body["branch"] == "north"
    assert body["authority_level"] == 1


def test_session_authentication(api, approver):
    api.force_login(approver)
    assert api.get("/api/v1/me/").status_code == 200


def test_unknown_route_is_json_404(api, approver):
    api.force_login(approver)
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404


def test_request_id_is_echoed_and_generated(api):
    sent = "0b7c9e2e-3a8e-4a53-9a53-1f7e2b7a4c11"
    assert api.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent
    generated = api.get("/healthz", HTTP_X_REQUEST_ID="not a uuid; DROP TABLE")["X-Request-ID"]
    assert generated != "not a uuid; DROP TABLE" and len(generated) == 36


def test_login_event_carries_the_request_id(client, approver):
    sent = "5d1d6c38-4a3f-4f0e-9a3e-2c8f0f6e2b11"
    client.post("/accounts/login/", {"username": "approver.north", "password": "credence-demo"},
                HTTP_X_REQUEST_ID=sent)
    event = AuditEvent.objects.filter(action="auth.login").get()
    assert str(event.request_id) == sent
    assert event.actor_id == approver.pk


def test_schema_documents_errors_on_every_operation(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "Error" in schema["components"]["schemas"]
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert operations
    for operation in operations:
        for status_code in ("401", "403", "404"):
            assert status_code in operation["responses"]


def test_docs_page_renders(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert b"api/schema" in response.content
    assert b"cdn" not in response.content.lower()  # assets are served by us, never a CDN


def test_schema_documents_errors_by_kind_of_operation(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    checked = set()
    for path in schema["paths"].values():
        for operation in path.values():
            parameters = operation.get("parameters", [])
            responses = operation["responses"]
            if any(p["in"] == "query" for p in parameters):
                assert "400" in responses, operation["operationId"]
                checked.add("query")
            if "requestBody" in operation:
                assert "400" in responses, operation["operationId"]
                checked.add("body")
            if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
                assert {"409", "422"} <= set(responses), operation["operationId"]
                checked.add("idempotency")
    assert checked == {"query", "body", "idempotency"}


def test_every_idempotent_command_documents_its_key_and_errors(api):
    """A view with IdempotentCommandMixin can answer 409/422 for a reused key: its schema must
    carry the Idempotency-Key parameter, from which the hook documents both (issue #16)."""
    from drf_spectacular.generators import EndpointEnumerator

    from apps.core.idempotency import IdempotentCommandMixin

    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    commands = 0
    for path, _regex, method, view in EndpointEnumerator().get_api_endpoints():
        view_class = getattr(view, "cls", None)
        if not (view_class and issubclass(view_class, IdempotentCommandMixin)
                and method in view_class.idempotent_methods):
            continue
        commands += 1
        operation = schema["paths"][path][method.lower()]
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "Idempotency-Key" in names, (method, path)
        assert {"409", "422"} <= set(operation["responses"]), (method, path)
    assert commands > 10
