import pytest
from django.utils import translation
from rest_framework.test import APIClient

from apps.applications import services
from apps.applications.tests.factories import TERMS, World


@pytest.fixture
def world(db):
    # Demo names come from role labels, translated in whatever language was left active.
    with translation.override("en"):
        return World()


@pytest.fixture
def south_app(world):
    """A draft of the south branch, opened by its own account manager."""
    return services.application_create(
        enterprise=world.enterprise(branch=world.south), product_version=world.version,
        actor=world.user("am.south"), **TERMS)


@pytest.fixture
def api_as(world):
    """A client authenticated as a demo user: api_as("am.north")."""
    def client(username: str) -> APIClient:
        api = APIClient()
        api.force_authenticate(world.user(username))
        return api
    return client


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape of apps.core.exceptions: {"code", "detail", "fields"}."""
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    if code is not None:
        assert body["code"] == code, body
    return body
