"""Reads of the audit trail that other apps share (the integrity banner)."""

from dataclasses import dataclass

from apps.audit.models import AuditEvent


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked_at: object = None
    bad_seq: int | None = None
    problem: str = ""


def chain_status_latest() -> ChainStatus | None:
    """The outcome of the most recent periodic verification, or None if none ran yet.

    One indexed query (action, seq): cheap enough for every page an auditor or admin opens.
    """
    event = (AuditEvent.objects.filter(action="audit.chain_verified").order_by("-seq")
             .only("occurred_at", "payload").first())
    if event is None:
        return None
    payload = event.payload or {}
    return ChainStatus(ok=bool(payload.get("ok")), checked_at=event.occurred_at,
                       bad_seq=payload.get("bad_seq"), problem=payload.get("problem") or "")
