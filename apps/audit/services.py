"""Writes to the audit trail. Every app records its events through `audit_record` only."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import CharField, Model
from django.utils import timezone

from apps.audit.chain import event_body_around_time_and_seq, hash_of, normalise_payload
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.registry import ensure_registered
from apps.audit.scope import resolve_scope
from apps.core.request_context import current_request_id

# Any constant works: it only has to be the same for every writer of the chain.
_CHAIN_LOCK_KEY = 0x6372656401  # "cred" + 1


class AuditOutsideTransaction(RuntimeError):
    """An event written outside the change's transaction could outlive a rolled-back change."""


def _subject_identity(subject) -> tuple[str, str, int | None]:
    if isinstance(subject, Model):
        return subject._meta.label_lower, str(subject.pk), getattr(subject, "branch_id", None)
    if isinstance(subject, tuple) and len(subject) == 2:  # ("accounts.user", "alice")
        return str(subject[0]), str(subject[1])[:64], None
    raise TypeError("subject must be a model instance or a (type, id) pair")


def _lock_chain_head() -> None:
    """Serialise writers so two events never read the same head.

    PostgreSQL: a transaction-scoped advisory lock, released at commit or rollback. SQLite:
    the IMMEDIATE transaction mode (settings) already holds the database write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


@dataclass(frozen=True)
class LockedHead:
    """The chain's head read under the chain lock (`audit_chain_head_steps`), for the one
    `audit_record` of the same transaction that appends after it."""

    seq: int
    hash: str
    transaction: object  # the outermost atomic block it was read in


def audit_chain_head_steps():
    """Lock the chain and read its head, as a step of `apps.core.compiled.run_together`, so a
    caller sends both with its own writes in one round trip; pass the result to the
    `audit_record` of the same transaction (`head=`). The lock comes last in the caller's
    statements (lock order: row locks first, the audit lock last), and the head is read in a
    statement of its own after the lock's: each statement of a text reads from a snapshot of
    its own (READ COMMITTED), taken once the lock is held, so it sees the event of the writer
    that held the lock before (one statement doing both would read the head from a snapshot
    taken before the wait). SQLite: the IMMEDIATE transaction holds the write lock already."""
    from apps.core.compiled import compiled_query

    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_chain_head_steps() called outside a transaction")
    head = compiled_query("audit_chain_head", lambda marker: AuditEvent.objects.order_by(
        "-seq").values_list("seq", "hash").first(), None,
        output_fields=[AuditEvent._meta.get_field("seq"), AuditEvent._meta.get_field("hash")])
    if connection.vendor == "postgresql":
        _locked, rows = yield [_chain_lock(), head]
    else:
        (rows,) = yield [head]
    seq, prev_hash = rows[0] if rows else (0, GENESIS_HASH)
    return LockedHead(seq, prev_hash, connection.atomic_blocks[0])


def audit_record(*, action: str, actor, subject, payload: dict | None = None,
                 branch_id: int | None = None, application_id: int | None = None,
                 enterprise_id: int | None = None, head: LockedHead | None = None,
                 commit: bool = False) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    `actor` is a user, or None for the system. `subject` is the model instance the event is
    about, or a (type, id) pair when there is none (a failed login names the username tried).
    Refuses to run outside `atomic()`: the event must commit or roll back with its change.
    The application, enterprise and branch are found from the subject when not given
    (`apps.audit.scope`), so auditors can filter an application's whole trail. `head`: the
    chain locked and its head read by `audit_chain_head_steps` in this transaction, by a
    caller that sent them with its own statements (once: it is the head of this event only).
    `commit` (with `head`): the event is the last write of the caller's transaction, which is
    its own outermost block: on PostgreSQL the transaction is committed with the event's insert
    in the same round trip (the block's exit then finds it committed and sends nothing: the
    scoring worker's write, one round trip less); a failed insert or commit raises here and the
    block rolls back as usual.
    """
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction(f"audit_record({action!r}) called outside a transaction")
    event = _unchained_event(action=action, actor=actor, subject=subject, payload=payload,
                             branch_id=branch_id, application_id=application_id,
                             enterprise_id=enterprise_id)
    if head is None:
        _lock_chain_head()
        found = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        event.seq, event.prev_hash = (found[0] + 1, found[1]) if found else (1, GENESIS_HASH)
    else:
        if head.transaction is not connection.atomic_blocks[0]:
            raise AuditOutsideTransaction("the chain head was read in another transaction")
        event.seq, event.prev_hash = head.seq + 1, head.hash
    event.occurred_at = timezone.now()  # once the chain is locked: in the order of the seq
    event.hash = hash_of(event)
    if head is None:
        event.save(force_insert=True)
    else:
        # The hot path (the scoring worker): the ORM's own INSERT, without the save machinery
        # around it (nothing listens to an event's save).
        from apps.core.compiled import Compiled, compiled_insert, inserted, run

        queries = [compiled_insert("audit_event", event)]
        if commit and connection.vendor == "postgresql":
            if len(connection.atomic_blocks) != 1 or connection.savepoint_ids:
                raise AuditOutsideTransaction("commit=True inside a caller's transaction")
            queries.append(Compiled("audit_commit", "COMMIT", (), ()))
        inserted(event, run(_sent(queries))[0])
    return event


def _unchained_event(*, action: str, actor, subject, payload: dict | None, branch_id: int | None,
                     application_id: int | None, enterprise_id: int | None) -> AuditEvent:
    """The event `audit_record` appends, all but its place in the chain (seq and hashes)."""
    ensure_registered(action)
    subject_type, subject_id, subject_branch_id = _subject_identity(subject)
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    payload = normalise_payload(payload or {})
    # Microseconds are kept by both databases, so the stored time hashes the same on re-read.
    occurred_at = timezone.now()
    scope = resolve_scope(subject=subject, payload=payload,
                          branch_id=branch_id if branch_id is not None else subject_branch_id,
                          application_id=application_id, enterprise_id=enterprise_id)
    return AuditEvent(
        occurred_at=occurred_at, action=action, actor_id=actor_id,
        subject_type=subject_type, subject_id=subject_id, branch_id=scope.branch_id,
        application_id=scope.application_id, enterprise_id=scope.enterprise_id,
        payload=payload, request_id=current_request_id())


def audit_append_steps(*, action: str, actor, subject, payload: dict | None = None,
                       branch_id: int | None = None, application_id: int | None = None,
                       enterprise_id: int | None = None, one_text: bool = False):
    """`audit_record` as a step of `apps.core.compiled.run_together` (PostgreSQL only): the
    chain's lock and the event's insert, which a caller sends after its own writes in one round
    trip (lock order: row locks first, the audit lock last); returns the event.

    The event's place in the chain is found by PostgreSQL, not read back first: the insert
    selects the head (seq, hash and time, or the genesis) and writes seq + 1, the head's hash
    as the previous hash, the event's time and its hash, sha256 of `prev_hash|body` as
    `event_hash` computes it (hence `audit_chain_verify` checks it as any other), with the
    body's bytes around the time and the seq made here (`event_body_around_time_and_seq`) and
    the time's canonical text made by PostgreSQL. The time is PostgreSQL's clock read by the
    insert, once the lock is held, as `audit_record` reads it: taken before the wait, a writer
    that waited would append an event older than the one before it, and the trail in seq
    order would go back in time (an auditor's sign of tampering). It is never earlier than
    the head's, whose time a clock other than PostgreSQL's may have given (an `audit_record`
    on an application server whose clock is ahead). The insert is a statement of its own
    after the lock's: each statement of a text reads from a snapshot of its own (READ
    COMMITTED), taken once the lock is held, so it sees the event of the writer that held the
    lock before (one statement doing both would read the head from a snapshot taken before the
    wait). Hashing bytes made in Python keeps the database's
    encoding out of the hash.

    Inside the caller's transaction; `one_text`: outside one, the caller sends these statements
    as the end of one text with its change and no transaction statements, which PostgreSQL
    runs as one transaction (`apps.core.compiled.sent_as_one_text`): the event commits or rolls
    back with the change all the same."""
    from apps.core.compiled import sent_as_one_text

    if connection.vendor != "postgresql":
        raise RuntimeError("audit_append_steps: PostgreSQL only (the hash is computed there)")
    if not connection.in_atomic_block and not (one_text and sent_as_one_text()):
        raise AuditOutsideTransaction(f"audit_append_steps({action!r}) outside a transaction")
    event = _unchained_event(action=action, actor=actor, subject=subject, payload=payload,
                             branch_id=branch_id, application_id=application_id,
                             enterprise_id=enterprise_id)
    parts = event_body_around_time_and_seq(
        action=event.action, actor_id=event.actor_id, subject_type=event.subject_type,
        subject_id=event.subject_id, branch_id=event.branch_id, payload=event.payload,
        request_id=event.request_id, application_id=event.application_id,
        enterprise_id=event.enterprise_id)
    _locked, rows = yield [_chain_lock(), _chained_insert(event, parts)]
    (event.pk, event.occurred_at, event.seq, event.prev_hash, event.hash), = rows
    event._state.adding, event._state.db = False, connection.alias
    return event


def _chain_lock():
    global _CHAIN_LOCK
    if _CHAIN_LOCK is None:  # built once: a field's construction costs more than the lock
        from apps.core.compiled import Compiled

        _CHAIN_LOCK = Compiled("audit_chain_lock", "SELECT pg_advisory_xact_lock(%s)",
                               (_CHAIN_LOCK_KEY,), (CharField(),))
    return _CHAIN_LOCK


_CHAIN_LOCK = None


# The chained insert's text and fields, built once per process (`_chained_insert`).
_CHAINED_INSERT: dict[str, tuple[str, list, tuple]] = {}
_CHAINED = ("occurred_at", "seq", "prev_hash", "hash")
# `apps.audit.chain`'s canonical text of a time (UTC, ISO, microseconds always): in UTC, the
# offset is always +00:00.
_CANONICAL_TIME = """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""


def _chained_insert(event: AuditEvent, parts: tuple[bytes, bytes, bytes]):
    """The INSERT … SELECT of `event` after the chain's head (see `audit_append_steps`),
    returning its id, time, seq, previous hash and hash. `parts`: the hashed body's bytes
    around its time and its seq."""
    from apps.core.compiled import Compiled

    compiled = _CHAINED_INSERT.get(connection.alias)
    if compiled is None:
        meta, quote = AuditEvent._meta, connection.ops.quote_name
        fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]
        table = quote(meta.db_table)
        seq, hash_, at = quote("seq"), quote("hash"), quote("occurred_at")
        chained = {
            "occurred_at": f"head.{at}",
            "seq": f"head.{seq}",
            "prev_hash": "head.prev",
            # prev_hash + "|" + body, the body's bytes around the time and the seq given
            # (`event_hash`); the time's text independent of the session's time zone
            "hash": (f"encode(sha256(convert_to(head.prev || '|', 'UTF8') || %s"
                     f" || convert_to(to_char(head.{at} AT TIME ZONE 'UTC', {_CANONICAL_TIME}),"
                     f" 'UTF8') || %s || convert_to(head.{seq}::text, 'UTF8') || %s), 'hex')"),
        }
        selected = ", ".join(chained.get(f.attname, "%s") for f in fields)
        returned = ", ".join(f"{table}.{quote(f.column)}"
                             for f in (meta.pk, *(meta.get_field(n) for n in _CHAINED)))
        sql = (f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - the model's names
               f"SELECT {selected} FROM (SELECT COALESCE(last.{seq}, 0) + 1 AS {seq}, "
               f"COALESCE(last.{hash_}, %s) AS prev, "
               # read once (a subquery's volatile column is never pulled up into its uses):
               # the stored time is the hashed one; GREATEST skips the genesis' NULL
               f"GREATEST(clock_timestamp(), last.{at}) AS {at} FROM (SELECT 1) AS one "
               f"LEFT JOIN (SELECT {seq}, {hash_}, {at} FROM {table} ORDER BY {seq} DESC "
               f"LIMIT 1) AS last ON true) AS head RETURNING {returned}")
        output = (meta.pk, *(meta.get_field(n) for n in _CHAINED))
        compiled = _CHAINED_INSERT[connection.alias] = (sql, fields, output)
    sql, fields, output = compiled
    params = []
    for field in fields:
        if field.attname == "hash":
            params += parts
        elif field.attname not in _CHAINED:
            params.append(field.get_db_prep_save(field.pre_save(event, add=True),
                                                 connection=connection))
    return Compiled("audit_chained_insert", sql, (*params, GENESIS_HASH), output)


def _sent(queries):
    return (yield queries)


def audit_record_now(**kwargs) -> AuditEvent:
    """`audit_record` in a transaction of its own, for events with no other change (a login)."""
    with transaction.atomic():
        return audit_record(**kwargs)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    bad_seq: int | None = None
    problem: str = ""


def audit_chain_verify(*, start_seq: int | None = None, end_seq: int | None = None,
                       chunk_size: int = 2000) -> ChainReport:
    """Recompute every hash and link in [start_seq, end_seq] and name the first broken link.

    Detects a changed row (its hash no longer matches), a deleted row (a gap in `seq`), and
    reordered or substituted rows (the `prev_hash` link breaks). Streams in `seq` order, so
    memory stays flat however long the chain.
    """
    events = AuditEvent.objects.order_by("seq")
    if start_seq is not None:
        events = events.filter(seq__gte=start_seq)
    if end_seq is not None:
        events = events.filter(seq__lte=end_seq)

    expected_seq, expected_prev = None, None
    if start_seq is not None and start_seq > 1:
        previous = (AuditEvent.objects.filter(seq=start_seq - 1)
                    .values_list("hash", flat=True).first())
        if previous is None:
            return ChainReport(False, 0, None, None, None, start_seq - 1,
                               "the event before the range is missing")
        expected_seq, expected_prev = start_seq, previous

    checked, first_seq, last_seq, last_hash = 0, None, None, None
    for event in events.iterator(chunk_size=chunk_size):
        if first_seq is None:
            first_seq = event.seq
            if expected_seq is None:
                expected_seq, expected_prev = 1, GENESIS_HASH
        problem = ""
        if event.seq != expected_seq:
            problem = f"expected event {expected_seq}, found {event.seq}: events are missing"
        elif event.prev_hash != expected_prev:
            problem = "its previous-hash link does not match the event before it"
        elif hash_of(event) != event.hash:
            problem = "its content does not match its hash: the row was altered"
        if problem:
            bad = expected_seq if event.seq != expected_seq else event.seq
            return ChainReport(False, checked, first_seq, last_seq, last_hash, bad, problem)
        checked += 1
        last_seq, last_hash = event.seq, event.hash
        expected_seq, expected_prev = event.seq + 1, event.hash
    return ChainReport(True, checked, first_seq, last_seq, last_hash)
