"""Each source's circuit breaker, its state in the database so every worker shares it.

Why not pybreaker: its default state lives in one process's memory (each of the workers would
learn of an outage on its own), and its shared storage needs Redis, which the embedded
SQLite/filesystem-broker runs do not have. The state we need is one row per source (consecutive
failures, open until), updated in the transaction that records the pull's outcome.

Closed: queries go out. After `datahub.breaker.failure_threshold` consecutive failed pulls it
opens for `datahub.breaker.open_seconds`: pulls fail at once with `circuit_open`, no query sent
and nothing paid. When the time is up the next pull is let through (half-open): a success
closes the circuit, a failure opens it again at once (the count is still over the threshold).
"""

from __future__ import annotations

import datetime as dt

from apps.datahub.models import SourceCircuit
from apps.datahub.policy import HubPolicy


def circuit_open_until(source: str, *, now: dt.datetime) -> dt.datetime | None:
    """When the source's circuit closes again, or None when queries may go out now."""
    until = (SourceCircuit.objects.filter(source=source)
             .values_list("opened_until", flat=True).first())
    return until if until is not None and until > now else None


def circuit_record(source: str, *, ok: bool, now: dt.datetime, policy: HubPolicy) -> None:
    """Count one pull's outcome; inside the caller's transaction (the row is locked)."""
    SourceCircuit.objects.get_or_create(source=source)
    circuit = SourceCircuit.objects.select_for_update().get(source=source)
    if ok:
        circuit.failures, circuit.opened_until = 0, None
    else:
        circuit.failures += 1
        if circuit.failures >= int(policy.need("datahub.breaker.failure_threshold")):
            circuit.opened_until = now + dt.timedelta(
                seconds=float(policy.need("datahub.breaker.open_seconds")))
    circuit.save(update_fields=["failures", "opened_until"])
