"""Tampering by means that get past the application (a DBA, a restored backup) is located."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    for n in range(1, 6):
        audit_record(action="branch.updated", actor=None, subject=("org.branch", str(n)),
                     payload={"n": n})
    return list(AuditEvent.objects.order_by("seq"))


def _tamper(sql: str, params=()) -> None:
    """Run SQL as someone who bypasses the application; on PostgreSQL the triggers are disabled
    for the statement first, as a superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_intact_chain_verifies(chain):
    report = audit_chain_verify()
    assert (report.ok, report.checked, report.head_hash) == (True, 5, chain[-1].hash)


def test_changed_payload_is_located(chain):
    _tamper("UPDATE audit_auditevent SET payload = %s WHERE seq = 3", ['{"n": 30}'])
    report = audit_chain_verify()
    assert not report.ok
    assert report.bad_seq == 3
    assert "altered" in report.problem


def test_deleted_row_is_located(chain):
    _tamper("DELETE FROM audit_auditevent WHERE seq = 2")
    report = audit_chain_verify()
    assert (report.ok, report.bad_seq) == (False, 2)
    assert "missing" in report.problem


def test_reordered_rows_are_located(chain):
    # Swap the positions of events 2 and 4 (via a free seq value, seq is unique).
    _tamper("UPDATE audit_auditevent SET seq = -4 WHERE seq = 4")
    _tamper("UPDATE audit_auditevent SET seq = 4 WHERE seq = 2")
    _tamper("UPDATE audit_auditevent SET seq = 2 WHERE seq = -4")
    report = audit_chain_verify()
    assert (report.ok, report.bad_seq) == (False, 2)


def test_rehashed_row_breaks_the_next_link(chain):
    """Recomputing the altered row's own hash is not enough: the next row names the old one."""
    from apps.audit.chain import hash_of

    event = AuditEvent.objects.get(seq=3)
    event.payload = {"n": 300}
    new_hash = hash_of(event)
    _tamper("UPDATE audit_auditevent SET payload = %s, hash = %s WHERE seq = 3",
            ['{"n": 300}', new_hash])
    report = audit_chain_verify()
    assert (report.ok, report.bad_seq) == (False, 4)


def test_range_verification_starts_from_the_previous_link(chain):
    assert audit_chain_verify(start_seq=3, end_seq=4).checked == 2
    _tamper("UPDATE audit_auditevent SET payload = %s WHERE seq = 5", ['{"n": 50}'])
    assert audit_chain_verify(start_seq=2, end_seq=4).ok
    assert audit_chain_verify(start_seq=4).bad_seq == 5


def test_command_names_the_first_bad_link(chain, capsys):
    call_command("verify_audit_chain")
    assert "5 events" in capsys.readouterr().out
    _tamper("UPDATE audit_auditevent SET action = 'auth.login' WHERE seq = 4")
    with pytest.raises(CommandError, match="BROKEN at event 4"):
        call_command("verify_audit_chain")
