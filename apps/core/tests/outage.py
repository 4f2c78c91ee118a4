"""A Celery producer whose broker refuses connections: what the web sees while Redis is down.

CELERY_BROKER_URL in the environment overrides a plain `broker=` argument (Celery reads it
first), so the connection itself is pinned to a closed port. Tests swap it in for
`apps.core.outbox.current_app` and swap the real app back when "the broker is back".
"""

from celery import Celery

CLOSED_PORT = "redis://127.0.0.1:1/0"


class ClosedPortApp(Celery):
    def connection_for_write(self, url=None, *args, **kwargs):
        return super().connection_for_write(CLOSED_PORT, *args, **kwargs)


def broker_down(monkeypatch) -> None:
    """From now on, every send of the outbox is refused as if the broker were down."""
    from apps.core import outbox

    monkeypatch.setattr(outbox, "current_app", ClosedPortApp("outage", set_as_current=False))


def broker_back(monkeypatch) -> None:
    from celery import current_app

    from apps.core import outbox

    monkeypatch.setattr(outbox, "current_app", current_app)
