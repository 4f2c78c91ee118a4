import pytest

from apps.monitoring.tests.factories import World


@pytest.fixture
def world(db):
    return World()
