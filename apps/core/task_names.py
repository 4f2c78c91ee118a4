"""Registered Celery task names, so earlier apps can send work to later ones by name.

Names are part of the message format: queued messages outlive deployments, so a name never
changes once released. `tests/test_architecture.py` checks each one is registered by a task.
"""

from enum import StrEnum


class TaskName(StrEnum):
    CORE_PING = "core.ping"
    AUDIT_CHAIN_VERIFY = "audit.audit_chain_verify"
    CORE_IDEMPOTENCY_PURGE = "core.idempotency_purge"
