"""Events whose place in the chain PostgreSQL finds and hashes (`audit_append_steps`, the
scoring worker's write in one round trip): they verify as any other event, with any payload,
and mixed with writers that hash in Python the chain stays one gapless chain."""

import datetime as dt
import hashlib
import threading
import time
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.audit.chain import (
    _SEQ_SENTINELS,
    _TIME_SENTINELS,
    NonCanonicalValue,
    _default,
    canonical_json,
    event_body_around_time_and_seq,
    event_hash,
)
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.services import (
    _CANONICAL_TIME,
    _CHAIN_LOCK_KEY,
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
    {"subject_id": 'x","occurred_at":"', "payload": {}},  # the text of a time in a string
    {"subject_id": "1", "payload": {"occurred_at": _TIME_SENTINELS[0]}},  # a time key
    {"subject_id": "1", "payload": {"occurred_at": _TIME_SENTINELS[0],
                                    "a": {"occurred_at": _TIME_SENTINELS[1]},
                                    "seq": _SEQ_SENTINELS[0]}},
    {"subject_id": "二", "payload": {"名称": "企业", "n": "1.50"}},
])
def test_the_body_around_the_time_and_seq_is_the_hashed_body_for_every_time_and_seq(fields):
    common = {"action": "a", "actor_id": None, "subject_type": "t", "branch_id": 3,
              "request_id": None, "application_id": 7, "enterprise_id": None, **fields}
    before, between, after = event_body_around_time_and_seq(**common)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    for seq, occurred_at in ((1, dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
                             (10, dt.datetime(2026, 12, 7, 18, 56, 10, 123456, tzinfo=dt.UTC)),
                             (123_456_789_012, dt.datetime(2026, 3, 4, 8, 0, 0, 1,
                                                           tzinfo=shanghai))):
        body = (before + _default(occurred_at).encode() + between + str(seq).encode() + after)
        assert body.decode() == canonical_json({"seq": seq, "occurred_at": occurred_at, **{
            k: v for k, v in common.items() if v is not None or k not in (
                "application_id", "enterprise_id")}})
        assert hashlib.sha256(GENESIS_HASH.encode() + b"|" + body).hexdigest() == event_hash(
            seq=seq, occurred_at=occurred_at, prev_hash=GENESIS_HASH, **common)


@pytest.mark.parametrize("payload", [
    {"seq": _SEQ_SENTINELS[0], '"seq': _SEQ_SENTINELS[1], 'a"seq': _SEQ_SENTINELS[2]},
    {"occurred_at": _TIME_SENTINELS[0], "a": {"occurred_at": _TIME_SENTINELS[1]},
     "b": {"occurred_at": _TIME_SENTINELS[2]}},
])
def test_a_body_that_holds_every_sentinel_is_refused(payload):
    with pytest.raises(NonCanonicalValue):
        event_body_around_time_and_seq(
            action="a", actor_id=None, subject_type="t", subject_id="1", branch_id=None,
            request_id=None, payload=payload)


@pytest.mark.django_db
def test_postgresql_writes_a_time_in_the_canonical_form(on_postgresql):
    """The text PostgreSQL hashes for an event's time is `apps.audit.chain`'s, whatever the
    session's time zone (whole seconds keep their six zeros)."""
    times = [dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
             dt.datetime(2026, 12, 7, 18, 56, 10, 123456, tzinfo=dt.UTC),
             dt.datetime(2026, 3, 4, 0, 30, 0, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
             dt.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Asia/Shanghai'")
        for value in times:
            cursor.execute(f"SELECT to_char(%s::timestamptz AT TIME ZONE 'UTC', "
                           f"{_CANONICAL_TIME})", [value])
            assert cursor.fetchone()[0] == _default(value)


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


def _wait_for_a_writer_waiting_for_the_chain(cursor) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND NOT granted")
        if cursor.fetchone()[0]:
            return
        time.sleep(0.01)
    raise AssertionError("the other writer never waited for the chain's lock")


def _times_in_seq_order() -> list:
    return list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_waited_for_the_chain_is_not_older_than_the_event_before_it(
        on_postgresql):
    """One writer holds the chain's lock while another waits for it, then appends two events
    (one hashed in Python, one in PostgreSQL) and commits: the event of the writer that
    waited comes after them in the chain and, its time taken once the lock is held, not
    before them in time either: the trail in seq order never goes back in time."""
    waited, errors = [], []

    def wait_and_append():
        try:
            waited.append(_append(one_text=True, payload={"waited": True}))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    other = threading.Thread(target=wait_and_append)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            other.start()
            _wait_for_a_writer_waiting_for_the_chain(cursor)
        held = [audit_record(action="branch.updated", actor=None, subject=("org.branch", "1"),
                             payload={"held": 1}),
                _append(payload={"held": 2})]
    other.join()
    assert errors == []
    (event,) = waited
    assert [e.seq for e in (*held, event)] == [1, 2, 3]
    assert event.occurred_at >= held[1].occurred_at >= held[0].occurred_at
    assert AuditEvent.objects.get(seq=3).occurred_at == event.occurred_at  # the stored time
    times = _times_in_seq_order()
    assert times == sorted(times)
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_an_event_is_never_older_than_the_head_whatever_the_clocks(on_postgresql):
    """An event written on an application server whose clock is ahead of PostgreSQL's: the
    next event chained by PostgreSQL takes its time (a whole second: the canonical text
    keeps the six zeros of its microseconds), not an earlier one, and verifies."""
    ahead = (timezone.now() + dt.timedelta(hours=1)).replace(microsecond=0)
    with mock.patch("apps.audit.services.timezone.now", return_value=ahead), \
            transaction.atomic():
        first = audit_record(action="branch.updated", actor=None, subject=("org.branch", "1"),
                             payload={"ahead": True})
    second = _append(one_text=True, payload={"after": True})
    assert first.occurred_at == second.occurred_at == ahead
    assert AuditEvent.objects.get(seq=2).occurred_at == ahead
    third = _append(one_text=True, payload={"after": 2})
    assert third.occurred_at == ahead  # still behind the head's clock: the head's time
    assert audit_chain_verify().ok
