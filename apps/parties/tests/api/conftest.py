import pytest
from django.utils import translation
from rest_framework.test import APIClient

from apps.applications.tests.factories import World


@pytest.fixture
def world(db):
    with translation.override("en"):
        return World()


@pytest.fixture
def api_as(world):
    def client(username: str) -> APIClient:
        api = APIClient()
        api.force_authenticate(world.user(username))
        return api
    return client
