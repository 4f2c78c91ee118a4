import pytest
from django.db import connection

from apps.loans.tests.factories import LoanWorld

# The feed's two engines: on PostgreSQL a plain batch is decided set-based (apps.loans.feed_sql)
# and the reference engine (row by row, the portable path) decides the rest; SQLite has only
# the reference engine. Feed tests that use `feed_path` run once per engine the database has.
FEED_PATHS = ["set-based", "reference"] if connection.vendor == "postgresql" else ["reference"]


@pytest.fixture
def world(db):
    return LoanWorld()


@pytest.fixture(params=FEED_PATHS)
def feed_path(request, settings):
    """Run the test with imports on one engine: `LOANS_FEED_SET_BASED` on or off."""
    settings.LOANS_FEED_SET_BASED = request.param == "set-based"
    return request.param
