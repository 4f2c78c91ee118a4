"""Liveness and readiness: is the process up, and can it do its work right now?

Liveness (`/livez`) does no I/O: a process that answers is alive, and an orchestrator restarts
only processes that do not. Readiness (`/readyz`, and `/healthz` for older probes) checks what a
request depends on: the database, the broker, file storage and a worker that answers a ping.

Why a budget: an orchestrator probes with a ~1 s timeout, and the old report waited out a 1.5 s
worker ping and a 2 s broker connect in turn (3 s measured), so every instance looked dead
whenever anything was slow. Now the checks run at the same time, each in a thread of a small
pool, and the report is cut at HEALTH_READINESS_BUDGET_SECONDS: a check that has not answered by
then is reported as `timeout` and readiness is 503. A hung dependency (a server that accepts the
connection and never answers) therefore costs a probe the budget, never a pile of threads: a
check still running from an earlier probe is waited on again rather than started twice.

Each check returns (ok, detail) and never raises; details are backend kinds and exception class
names only, never messages (a DSN with a password) or host names: the endpoints are public.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from celery import current_app
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections
from django.db.utils import load_backend

logger = logging.getLogger(__name__)

# A storage key that is never written: asking whether it exists is a cheap round trip (HEAD on
# object storage) that proves the store answers.
STORAGE_PROBE_NAME = ".credence-readiness-probe"


def readiness_budget() -> float:
    return float(getattr(settings, "HEALTH_READINESS_BUDGET_SECONDS", 0.4))


def check_database(timeout: float) -> tuple[bool, str]:
    """A fresh connection and `SELECT 1`: proves the server takes connections now.

    Its own connection (closed after), not the request thread's: the check runs in a pool
    thread, and a persistent connection per pool thread would outlive test databases.
    """
    wrapper = None
    try:
        config = copy.deepcopy(connections["default"].settings_dict)
        if config["ENGINE"] == "django.db.backends.postgresql":
            # libpq's connect_timeout counts whole seconds (2 at least); the budget cuts sooner.
            config.setdefault("OPTIONS", {})["connect_timeout"] = max(2, int(timeout + 1))
        wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias="readiness")
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, wrapper.vendor
    except Exception as exc:  # any failure is a report, not a crash of the probe
        logger.warning("readiness: database check failed: %s", exc)
        return False, type(exc).__name__
    finally:
        if wrapper is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                wrapper.close()


SOCKET_TIMEOUT_MARGIN = 0.25  # seconds past the readiness budget


def check_broker(timeout: float) -> tuple[bool, str]:
    try:
        # Socket timeouts just past the budget: a broker that accepts and never answers frees
        # this pool thread soon after the probe gave up, instead of holding it for good. Equal
        # to the budget they raced it, and a loaded host reported a hung broker as "down"
        # instead of "timeout" (seen at load 10 on 2 CPUs).
        late = timeout + SOCKET_TIMEOUT_MARGIN
        options = {"socket_connect_timeout": late, "socket_timeout": late}
        with current_app.connection_for_write(transport_options=options) as conn:
            # One immediate retry, no back-off: kombu's default waits 2 s before it retries.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=timeout)
            return True, conn.transport.driver_name
    except Exception as exc:
        logger.warning("readiness: broker check failed: %s", exc)
        return False, type(exc).__name__


def check_storage(timeout: float) -> tuple[bool, str]:
    """The default storage answers. On the local disk `exists()` of a missing root is just
    False, so there the root must be (or become) a writable folder; elsewhere (object
    storage) a lookup of a key that is never written must come back without an error."""
    storage = default_storage
    try:
        if isinstance(storage, FileSystemStorage):  # the lazy proxy passes isinstance
            location = storage.location
            # The storage creates its folder on the first save; so does the check, so a fresh
            # install is ready, and a folder that cannot be made fails with the reason.
            os.makedirs(location, exist_ok=True)
            if not os.access(location, os.W_OK | os.X_OK):
                return False, "folder not writable"
            return True, "filesystem"
        storage.exists(STORAGE_PROBE_NAME)
        return True, storage.__class__.__name__
    except Exception as exc:
        logger.warning("readiness: storage check failed: %s", exc)
        return False, type(exc).__name__


def check_worker(timeout: float) -> tuple[bool, str]:
    """A broadcast ping; the first worker to answer ends the wait (`limit=1`), so a healthy
    system answers in milliseconds and only a missing worker costs the whole timeout."""
    try:
        replies = current_app.control.ping(timeout=timeout, limit=1) or []
    except Exception as exc:
        logger.warning("readiness: worker ping failed: %s", exc)
        return False, type(exc).__name__
    # A count, not hostnames: the probe is public and names would map the bank's machines.
    answered = sum(len(reply) for reply in replies)
    return (True, f"{answered} answered") if answered else (False, "no worker answered")


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
    "worker": check_worker,
}

# One thread per check is enough: a check is never started while the previous one still runs.
_pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readiness")
_in_flight: dict[str, Future] = {}
_in_flight_lock = threading.Lock()


def _timed(check, timeout: float) -> tuple[bool, str, float]:
    started = time.perf_counter()
    ok, detail = check(timeout)
    return ok, detail, (time.perf_counter() - started) * 1000


def _start(name: str, budget: float) -> Future:
    with _in_flight_lock:
        future = _in_flight.get(name)
        if future is None or future.done():
            # The worker ping waits for answers itself: leave it a margin inside the budget,
            # so "no worker answered" is reported as such rather than as a timeout.
            timeout = budget * 0.6 if name == "worker" else budget
            future = _pool.submit(_timed, CHECKS[name], timeout)
            _in_flight[name] = future
        return future


def readiness_report(*, budget: float | None = None) -> dict:
    """Every check at once, cut at the budget. Shape (the probes' and the status page's):
    {"ok": bool, "budget_ms": int, "checks": {name: {"ok", "state", "detail", "ms"}}}
    where state is "up", "down" or "timeout"."""
    budget = readiness_budget() if budget is None else budget
    started = time.monotonic()
    futures = {name: _start(name, budget) for name in CHECKS}
    wait_futures(futures.values(), timeout=budget)
    waited = (time.monotonic() - started) * 1000
    checks = {}
    for name, future in futures.items():
        if future.done():
            ok, detail, ms = future.result()
            checks[name] = {"ok": ok, "state": "up" if ok else "down", "detail": detail,
                            "ms": round(ms, 1)}
        else:
            checks[name] = {"ok": False, "state": "timeout",
                            "detail": f"no answer within {budget:g} s", "ms": round(waited, 1)}
    return {"ok": all(c["ok"] for c in checks.values()), "budget_ms": round(budget * 1000),
            "checks": checks}


def health_report() -> dict:
    """The readiness report (the name older callers and /healthz use)."""
    return readiness_report()
