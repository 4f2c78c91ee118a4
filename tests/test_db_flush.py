"""The test flush (tests/db_flush.py) leaves every table empty, as Django's TRUNCATE does."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from tests import db_flush


def _tables_with_rows() -> list[str]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    return db_flush._tables_with_rows(connection, sorted(tables)) or []


@pytest.mark.django_db(transaction=True)
def test_flush_empties_tables_that_reference_each_other_and_the_audit_trail(world):
    from apps.audit.models import AuditEvent

    if connection.vendor != "postgresql":
        pytest.skip("the fast flush is PostgreSQL's")
    world.in_state("disbursed")  # an application, its approval, loan and audit chain
    assert AuditEvent.objects.exists()
    assert len(_tables_with_rows()) > 5  # users, branches, products, … and their references

    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)

    assert _tables_with_rows() == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"  # triggers fire again after the flush


@pytest.mark.django_db(transaction=True)
def test_flush_inside_a_transaction_sets_the_replication_role_back(world):
    if connection.vendor != "postgresql":
        pytest.skip("the fast flush is PostgreSQL's")
    with transaction.atomic():
        call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"
    assert _tables_with_rows() == []
