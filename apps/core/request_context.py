"""The id of the user action being served, readable anywhere in the same thread or task.

A context variable, not a thread-local, so it is right under async views too. The audit trail
stores it on every event, and every log line carries it, so one click can be followed from the
web request through the audit events it wrote.
"""

import uuid
from contextvars import ContextVar

_request_id: ContextVar[uuid.UUID | None] = ContextVar("credence_request_id", default=None)


def current_request_id() -> uuid.UUID | None:
    return _request_id.get()


def set_request_id(value: uuid.UUID | None):
    """Set the id; returns the token to restore the previous value with `reset_request_id`."""
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def parse_request_id(raw: str | None) -> uuid.UUID:
    """Accept a caller's X-Request-ID only when it is a UUID: free text would reach the logs."""
    if raw:
        try:
            return uuid.UUID(raw)
        except ValueError:
            pass
    return uuid.uuid4()
