import pytest


@pytest.fixture
def investigated(world):
    """An application whose investigation is accepted (the moment scoring starts)."""
    return world.in_state("investigating")
