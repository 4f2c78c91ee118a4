"""Canonical serialisation and hashing of audit events.

The canonical form is fixed forever: sorted keys, compact separators, Decimals and UUIDs as
strings, UTC ISO timestamps with microseconds, and no floats (their text form is not stable
across platforms). Upgrades must never change it, or old chains would stop verifying.
"""

import datetime as dt
import hashlib
import itertools
import json
import uuid
from decimal import Decimal

from django.db.models import Model


class NonCanonicalValue(TypeError):
    pass


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise NonCanonicalValue("naive datetime in an audit payload")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise NonCanonicalValue(f"{type(value).__name__} cannot go into an audit payload")


def _refuse_floats(value):
    if isinstance(value, float):
        raise NonCanonicalValue("float in an audit payload: use Decimal or str")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refuse_floats(item)


def canonical_json(value) -> str:
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default)


def normalise_payload(payload: dict) -> dict:
    """The payload as it will read back from the JSON column, so the hash verifies later."""
    return json.loads(canonical_json(payload))


def _hashed_fields(*, seq, occurred_at, action, actor_id, subject_type, subject_id, branch_id,
                   payload, request_id, application_id=None, enterprise_id=None) -> dict:
    fields = {
        "seq": seq,
        "occurred_at": occurred_at,
        "action": action,
        "actor_id": actor_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "branch_id": branch_id,
        "payload": payload,
        "request_id": request_id,
    }
    # The scope columns (added later, for auditors' filters) join the hashed body only when
    # set: events written before them hash exactly as they always did, and setting, clearing
    # or changing a scope afterwards still breaks the row's hash.
    if application_id is not None:
        fields["application_id"] = application_id
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
    return fields


def event_hash(*, seq: int, occurred_at: dt.datetime, action: str, actor_id, subject_type: str,
               subject_id: str, branch_id, payload: dict, request_id, prev_hash: str,
               application_id=None, enterprise_id=None) -> str:
    body = canonical_json(_hashed_fields(
        seq=seq, occurred_at=occurred_at, action=action, actor_id=actor_id,
        subject_type=subject_type, subject_id=subject_id, branch_id=branch_id, payload=payload,
        request_id=request_id, application_id=application_id, enterprise_id=enterprise_id))
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


# Stand for the sequence number and the time in `event_body_around_time_and_seq` (and, should
# the event's own text hold one already, the next ones down).
_SEQ_SENTINELS = (-7_314_159_265_358, -7_314_159_265_359, -7_314_159_265_360)
_TIME_SENTINELS = ("occurred-at-7314159265358", "occurred-at-7314159265359",
                   "occurred-at-7314159265360")


def event_body_around_time_and_seq(**fields) -> tuple[bytes, bytes, bytes]:
    """The UTF-8 bytes of an event's hashed body around its time and its sequence number: for
    every `occurred_at` and `seq`, the body `event_hash` hashes is `before + time + between +
    str(seq) + after`, where `time` is `occurred_at` in the canonical form (`_default`: UTC,
    ISO, microseconds), so a writer that learns the seq, the previous hash and the time only
    under the chain's lock, in the database, can hash the event there
    (`apps.audit.services.audit_append_steps`). `fields`: those of `event_hash` but `seq`,
    `occurred_at` and `prev_hash`.

    The body is the canonical JSON with sentinels for both, cut at the one place each of the
    texts `"occurred_at":"<sentinel>"` and `"seq":<sentinel>` occurs: the top-level keys (a
    quote inside a JSON string is escaped, so only a key of that name can give that text; a
    payload key with a sentinel's value would make it occur twice, and another sentinel is
    taken). Keys are sorted, so the time comes before the seq."""
    for time_sentinel, seq_sentinel in itertools.product(_TIME_SENTINELS, _SEQ_SENTINELS):
        body = canonical_json(_hashed_fields(seq=seq_sentinel, occurred_at=time_sentinel,
                                             **fields))
        time_token, seq_token = f'"occurred_at":"{time_sentinel}"', f'"seq":{seq_sentinel}'
        if body.count(time_token) == 1 and body.count(seq_token) == 1:
            before, _time, rest = body.partition(time_token)
            between, _seq, after = rest.partition(seq_token)
            return (f'{before}"occurred_at":"'.encode(), f'"{between}"seq":'.encode(),
                    after.encode())
    raise NonCanonicalValue("the event's body holds every time or every sequence sentinel")


def hash_of(event) -> str:
    """Recompute an AuditEvent row's hash from its stored fields."""
    return event_hash(seq=event.seq, occurred_at=event.occurred_at, action=event.action,
                      actor_id=event.actor_id, subject_type=event.subject_type,
                      subject_id=event.subject_id, branch_id=event.branch_id,
                      payload=event.payload, request_id=event.request_id,
                      prev_hash=event.prev_hash,
                      application_id=getattr(event, "application_id", None),
                      enterprise_id=getattr(event, "enterprise_id", None))
