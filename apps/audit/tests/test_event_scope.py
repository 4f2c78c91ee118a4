"""Events carry the application, enterprise and branch they belong to, inside the hash."""

import datetime as dt

import pytest

from apps.audit.chain import event_hash, hash_of
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.services import audit_chain_verify, audit_record

pytestmark = pytest.mark.django_db


def test_unscoped_events_hash_exactly_as_before_the_scope_columns():
    """The pre-scope formula (no application/enterprise keys) is what an unscoped event gets,
    so chains written before the columns existed still verify."""
    import hashlib

    from apps.audit.chain import canonical_json

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    fields = {"seq": 1, "occurred_at": at, "action": "branch.updated", "actor_id": None,
              "subject_type": "org.branch", "subject_id": "1", "branch_id": None,
              "payload": {}, "request_id": None}
    old = hashlib.sha256(f"{GENESIS_HASH}|{canonical_json(fields)}".encode()).hexdigest()
    assert event_hash(prev_hash=GENESIS_HASH, **fields) == old
    assert event_hash(prev_hash=GENESIS_HASH, application_id=7, **fields) != old


def test_scope_is_found_from_the_subject_and_its_application(world):
    application = world.draft()
    created = AuditEvent.objects.get(action="application.created")
    assert (created.application_id, created.enterprise_id, created.branch_id) == (
        application.pk, application.enterprise_id, application.branch_id)

    # A subject that only names the application (in the payload) is scoped through the
    # registered resolver (apps.oversight registers the application one).
    event = audit_record(action="branch.updated", actor=None, subject=("tests.part", "1"),
                         payload={"application_id": application.pk})
    assert (event.application_id, event.enterprise_id, event.branch_id) == (
        application.pk, application.enterprise_id, application.branch_id)
    assert hash_of(AuditEvent.objects.get(pk=event.pk)) == event.hash
    assert audit_chain_verify().ok


def test_changing_a_scope_column_breaks_the_row_hash(world):
    world.draft()
    event = AuditEvent.objects.get(action="application.created")
    event.application_id = event.application_id + 1
    assert hash_of(event) != event.hash
    event.application_id, event.enterprise_id = None, None
    assert hash_of(event) != event.hash
