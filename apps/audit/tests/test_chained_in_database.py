"""Events whose place in the chain PostgreSQL finds and hashes (`audit_append_steps`, the
scoring worker's write in one round trip): they verify as any other event, with any payload,
and mixed with writers that hash in Python the chain stays one gapless chain."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.chain import (
    _SEQ_SENTINELS,
    NonCanonicalValue,
    canonical_json,
    event_body_around_seq,
    event_hash,
)
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.services import (
    AuditOutsideTransaction,
    audit_append_steps,
    audit_chain_verify,
    audit_record,
)
from apps.audit.tests.test_audit_record import _run_and_check_the_chain
from apps.core.compiled import Compiled, run_together
from apps.core.request_context import reset_request_id, set_request_id


def _sent(queries):
    return (yield queries)


def _append(*, one_text: bool = False, before=(), **kwargs):
    """The event appended by PostgreSQL, after the statements `before` in the same text."""
    kwargs.setdefault("action", "branch.updated")
    kwargs.setdefault("actor", None)
    kwargs.setdefault("subject", ("org.branch", "1"))
    _rows, event = run_together(_sent(list(before)),
                                audit_append_steps(one_text=one_text, **kwargs))
    return event


@pytest.mark.parametrize("fields", [
    {"subject_id": 'x","seq":1,"y":"', "payload": {}},  # the text of a seq inside a string
    {"subject_id": "1", "payload": {"seq": _SEQ_SENTINELS[0]}},  # a payload key named seq
    {"subject_id": "1", "payload": {"seq": _SEQ_SENTINELS[0], '"seq': _SEQ_SENTINELS[1]}},
    {"subject_id": "二", "payload": {"名称": "企业", "n": "1.50"}},
])
def test_the_body_around_the_seq_is_the_hashed_body_for_every_seq(fields):
    import datetime as dt
    import hashlib

    common = {"occurred_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "action": "a",
              "actor_id": None, "subject_type": "t", "branch_id": 3, "request_id": None,
              "application_id": 7, "enterprise_id": None, **fields}
    before, after = event_body_around_seq(**common)
    for seq in (1, 9, 10, 123_456_789_012):
        body = before + str(seq).encode() + after
        assert body.decode() == canonical_json({"seq": seq, **{
            k: v for k, v in common.items() if v is not None or k not in (
                "application_id", "enterprise_id")}})
        assert hashlib.sha256(GENESIS_HASH.encode() + b"|" + body).hexdigest() == event_hash(
            seq=seq, prev_hash=GENESIS_HASH, **common)


def test_a_body_that_holds_every_sentinel_is_refused():
    with pytest.raises(NonCanonicalValue):
        event_body_around_seq(
            occurred_at=None, action="a", actor_id=None, subject_type="t", subject_id="1",
            branch_id=None, request_id=None,
            payload={"seq": _SEQ_SENTINELS[0], '"seq': _SEQ_SENTINELS[1],
                     'a"seq': _SEQ_SENTINELS[2]})


@pytest.mark.django_db(transaction=True)
def test_events_chained_by_the_database_verify_as_any_other(on_postgresql, world):
    """Non-ASCII text, Decimals (stored as strings), no actor or request id and with them, an
    application's and an enterprise's scope, the genesis link: each event's hash, made by
    PostgreSQL, is the one `audit_chain_verify` recomputes in Python."""
    application = world.in_state("investigating")
    officer = world.user("lead.north")
    start = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    request_id = uuid.uuid4()
    written = []
    with transaction.atomic():
        written.append(_append(payload={"名称": "杭州某某贸易有限公司", "note": "二〇二六",
                                        "amount": Decimal("1500000.00"), "rate": Decimal("4.35"),
                                        "nested": {"b": [1, "二", None], "a": None}}))
        written.append(audit_record(action="branch.updated", actor=None,
                                    subject=("org.branch", "1"), payload={"python": True}))
        token = set_request_id(request_id)
        try:
            written.append(_append(actor=officer, subject=application,
                                   payload={"score_result": 14, "probability": "0.511647"}))
        finally:
            reset_request_id(token)
        written.append(_append(subject=("parties.enterprise", "企业-1"),
                               enterprise_id=application.enterprise_id,
                               payload={"seq": _SEQ_SENTINELS[0]}))
    first_seq, first_prev = (start[0] + 1, start[1]) if start else (1, GENESIS_HASH)
    assert [e.seq for e in written] == list(range(first_seq, first_seq + 4))
    assert written[0].prev_hash == first_prev
    assert [e.prev_hash for e in written[1:]] == [e.hash for e in written[:-1]]
    stored = {e.seq: e for e in AuditEvent.objects.filter(seq__gte=first_seq)}
    for event in written:
        row = stored[event.seq]
        assert (row.pk, row.prev_hash, row.hash) == (event.pk, event.prev_hash, event.hash)
    scoped = stored[written[2].seq]
    assert (scoped.actor_id, scoped.request_id) == (officer.pk, request_id)
    assert (scoped.application_id, scoped.enterprise_id) == (application.pk,
                                                             application.enterprise_id)
    assert stored[written[0].seq].payload["amount"] == "1500000.00"
    assert stored[written[0].seq].actor_id is None and stored[written[0].seq].request_id is None
    assert stored[written[3].seq].enterprise_id == application.enterprise_id
    report = audit_chain_verify()
    assert report.ok and report.last_seq == written[-1].seq


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_only_as_the_end_of_one_text(on_postgresql):
    """Outside a transaction the steps must be the end of a text of the caller's change
    (`one_text`), which PostgreSQL runs as one transaction: an error in it writes nothing."""
    with pytest.raises(AuditOutsideTransaction):
        _append()
    with pytest.raises(DatabaseError):
        _append(one_text=True, before=[Compiled("boom", "SELECT 1 / 0", (), ())])
    assert not AuditEvent.objects.exists()
    assert connection.connection.info.transaction_status == 0  # idle: rolled back, not stuck
    event = _append(one_text=True, payload={"n": 1})
    assert (event.seq, event.prev_hash) == (1, GENESIS_HASH)
    with connection.cursor() as cursor:  # committed, and the chain's lock released with it
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    assert audit_chain_verify().ok


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_writers_chained_by_the_database_and_by_python_keep_one_chain(on_postgresql):
    """Writers that let PostgreSQL chain their event (in a text of its own, and inside a
    transaction) and writers that read the head and hash in Python, all at once: the insert
    is a statement after the lock's, reading the head from a snapshot taken once the lock is
    held, so no two events take the same place."""
    writers, per_writer = 4, 20
    barrier = threading.Barrier(writers)
    errors = []

    def write(kind: int):
        try:
            barrier.wait()
            for n in range(per_writer):
                payload = {"writer": kind, "n": n, "文字": "审计"}
                if kind == 0:
                    _append(one_text=True, payload=payload)
                elif kind == 1:
                    with transaction.atomic():
                        _append(payload=payload)
                else:
                    with transaction.atomic():
                        audit_record(action="branch.updated", actor=None,
                                     subject=("org.branch", "1"), payload=payload)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    _run_and_check_the_chain([threading.Thread(target=write, args=(n % 3,))
                              for n in range(writers)], errors, events=writers * per_writer)
