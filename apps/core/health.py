"""Liveness of the three things a request depends on: database, broker, and a worker that answers.

Each check returns (ok, detail) and never raises, so /healthz always answers with a full report.
"""

import logging

from celery import current_app
from django.db import connection

logger = logging.getLogger(__name__)


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # any failure is a report, not a crash of the health page
        logger.warning("healthz: database check failed: %s", exc)
        return False, type(exc).__name__


def check_broker(timeout: float = 2.0) -> tuple[bool, str]:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            return True, conn.transport.driver_name
    except Exception as exc:
        logger.warning("healthz: broker check failed: %s", exc)
        return False, type(exc).__name__


def check_worker(timeout: float = 1.5) -> tuple[bool, str]:
    """A broadcast ping over the broker; any worker that replies in time counts."""
    try:
        replies = current_app.control.ping(timeout=timeout) or []
    except Exception as exc:
        logger.warning("healthz: worker ping failed: %s", exc)
        return False, type(exc).__name__
    # A count, not hostnames: /healthz is public and names would map the bank's machines.
    answered = sum(len(reply) for reply in replies)
    return (True, f"{answered} answered") if answered else (False, "no worker answered")


def health_report() -> dict:
    checks = {}
    for name, check in (("database", check_database), ("broker", check_broker),
                        ("worker", check_worker)):
        ok, detail = check()
        checks[name] = {"ok": ok, "detail": detail}
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
