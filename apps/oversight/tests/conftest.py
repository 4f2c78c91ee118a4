import pytest
from django.test import Client


@pytest.fixture
def client_as(world):
    """A page client signed in as one of the demo staff: client_as("auditor.north")."""
    def make(username: str) -> Client:
        client = Client()
        client.force_login(world.user(username))
        return client
    return make


@pytest.fixture
def disbursed(world):
    """One application walked through its whole lifecycle with the services."""
    return world.in_state("disbursed")
