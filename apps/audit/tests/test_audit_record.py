import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from apps.audit.chain import NonCanonicalValue, hash_of
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.registry import UnknownAuditAction
from apps.audit.services import (
    AuditOutsideTransaction,
    audit_chain_head_steps,
    audit_chain_verify,
    audit_record,
)
from apps.core.request_context import reset_request_id, set_request_id
from apps.org.models import Branch


def _record(**kwargs):
    kwargs.setdefault("action", "branch.updated")
    kwargs.setdefault("actor", None)
    kwargs.setdefault("subject", ("org.branch", "1"))
    return audit_record(**kwargs)


@pytest.mark.django_db
def test_events_form_a_chain_from_genesis():
    first, second = _record(payload={"n": 1}), _record(payload={"n": 2})
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_hash_verifies_after_reading_back_from_the_database():
    event = _record(payload={"amount": Decimal("1500000.00"), "when": dt.date(2026, 1, 2),
                             "nested": {"b": [1, "二"], "a": None}})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.payload == {"amount": "1500000.00", "when": "2026-01-02",
                              "nested": {"a": None, "b": [1, "二"]}}
    assert hash_of(stored) == stored.hash


@pytest.mark.django_db
def test_subject_branch_and_request_id_are_recorded():
    branch = Branch.objects.create(code="b1", name="B1")
    request_id = uuid.uuid4()
    token = set_request_id(request_id)
    try:
        event = _record(subject=branch, branch_id=branch.pk)
    finally:
        reset_request_id(token)
    assert (event.subject_type, event.subject_id) == ("org.branch", str(branch.pk))
    assert event.branch_id == branch.pk
    assert event.request_id == request_id


@pytest.mark.django_db
def test_unknown_action_is_refused():
    with pytest.raises(UnknownAuditAction):
        _record(action="application.teleported")


@pytest.mark.django_db
def test_floats_are_refused_because_their_text_is_not_stable():
    with pytest.raises(NonCanonicalValue):
        _record(payload={"score": 0.1})


@pytest.mark.django_db(transaction=True)
def test_refuses_to_write_outside_a_transaction():
    with pytest.raises(AuditOutsideTransaction):
        _record()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_event_rolls_back_with_its_change():
    with pytest.raises(ValueError), transaction.atomic():
        Branch.objects.create(code="gone", name="Gone")
        _record()
        raise ValueError
    assert not AuditEvent.objects.exists()
    assert not Branch.objects.filter(code="gone").exists()


def _run_and_check_the_chain(threads: list, errors: list, *, events: int) -> None:
    """Run the writers to the end; then no writer failed, the sequence has no gap and the
    chain verifies."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, events + 1))
    report = audit_chain_verify()
    assert report.ok and report.checked == events


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_gapless_chain(on_postgresql):
    """The advisory lock serialises writers: no two events read the same head."""
    writers, per_writer = 4, 25
    barrier = threading.Barrier(writers)
    errors = []

    def write():
        try:
            barrier.wait()
            for _ in range(per_writer):
                with transaction.atomic():
                    _record()
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    _run_and_check_the_chain([threading.Thread(target=write) for _ in range(writers)],
                             errors, events=writers * per_writer)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_writers_that_send_the_lock_and_head_with_their_statements_keep_the_chain(
        on_postgresql):
    """`audit_chain_head_steps` sends the lock and the head read in one text (the scoring
    worker adds its inserts before them): the head is a statement of its own, read from a
    snapshot taken once the lock is held, so a writer that waited for the lock sees the event
    of the one before it. Mixed with ordinary writers, the chain stays gapless and verifies."""
    from apps.core.compiled import run_together

    writers, per_writer = 4, 20
    barrier = threading.Barrier(writers)
    errors = []

    def write(batched: bool):
        try:
            barrier.wait()
            for _ in range(per_writer):
                with transaction.atomic():
                    head = run_together(audit_chain_head_steps())[0] if batched else None
                    _record(head=head)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    _run_and_check_the_chain([threading.Thread(target=write, args=(n % 2 == 0,))
                              for n in range(writers)], errors, events=writers * per_writer)


@pytest.mark.django_db(transaction=True)
def test_a_head_read_in_another_transaction_is_refused():
    from apps.core.compiled import run_together

    with transaction.atomic():
        head = run_together(audit_chain_head_steps())[0]
    with transaction.atomic(), pytest.raises(AuditOutsideTransaction):
        _record(head=head)
