import pytest

from apps.applications import services
from apps.applications.tests.factories import TERMS


@pytest.fixture
def south_app(world):
    """A draft of the south branch, opened by its own account manager."""
    return services.application_create(
        enterprise=world.enterprise(branch=world.south), product_version=world.version,
        actor=world.user("am.south"), **TERMS)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape of apps.core.exceptions: {"code", "detail", "fields"}."""
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    if code is not None:
        assert body["code"] == code, body
    return body
