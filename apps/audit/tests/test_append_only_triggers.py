"""On PostgreSQL the database itself refuses to change or remove audit rows."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def event(on_postgresql):
    return audit_record(action="branch.updated", actor=None, subject=("org.branch", "1"))


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    return str(caught.value)


def test_update_is_refused(event):
    assert "append-only: UPDATE refused" in _refused(
        "UPDATE audit_auditevent SET payload = '{}' WHERE seq = 1")


def test_orm_update_is_refused_too(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="auth.login")


def test_delete_is_refused(event):
    assert "append-only: DELETE refused" in _refused("DELETE FROM audit_auditevent")


def test_truncate_is_refused_outside_the_test_database_setting(event):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL credence.audit_truncate_allowed = 'off'")
    assert "append-only: TRUNCATE refused" in _refused("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()
