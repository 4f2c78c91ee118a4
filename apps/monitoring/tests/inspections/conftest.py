import pytest


@pytest.fixture
def world(db):
    """The applications' world (demo staff, products, eligible firms): inspections walk real
    files to disbursement, unlike the risk tests' bare loans (`../conftest.py`)."""
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.monitoring.seed import seed_monitoring

    with translation.override("en"):
        world = World()
    seed_monitoring()  # signal rules: inspections raise W17, W18 and W24 through the wiring
    return world
