"""/livez, /readyz and /healthz against real dependencies made unreachable or hung.

Nothing is mocked at the edge: the settings the checks read are pointed at a closed port (the
connection is refused) or at a socket that accepts and never answers (a hung server), and the
real checks run. The point: a full JSON report naming each check and its state, a 503, and an
answer within the readiness budget however slow the dependency.
"""

import socket
import time
from concurrent.futures import wait as wait_futures

import pytest
from django.db import connections

from apps.core import health
from config.celery import app

BUDGET = 0.5
# The probe's answer may exceed the budget by the thread hand-off and the JSON (more on a loaded
# shared CI box), never by a dependency's own timeouts: libpq's connect timeout alone is 2 s and
# a hung Redis without socket timeouts blocks for good.
ANSWER_WITHIN = 1.5
SECRET = "hunter2"


@pytest.fixture(autouse=True)
def _budget(settings):
    settings.HEALTH_READINESS_BUDGET_SECONDS = BUDGET


@pytest.fixture(autouse=True)
def _settle():
    """A check left running by a test (a hung dependency) must finish before the next test,
    or that test would be answered by the running check (by design: one check in flight)."""
    yield
    wait_futures(list(health._in_flight.values()), timeout=10)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def hung_server():
    """A TCP port that accepts connections and never answers (a hung PostgreSQL or Redis).
    Accepted sockets are kept, then closed at teardown so blocked clients see EOF."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()
    wait_futures(list(health._in_flight.values()), timeout=10)


@pytest.fixture
def database_unreachable(db, monkeypatch):
    """The database settings the check reads, pointed where nothing answers: a closed port on
    PostgreSQL, a file in a folder that does not exist on SQLite."""
    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor == "postgresql":
        monkeypatch.setitem(settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(settings_dict, "PORT", str(_closed_port()))
        monkeypatch.setitem(settings_dict, "PASSWORD", SECRET)
    else:
        monkeypatch.setitem(settings_dict, "NAME", f"/nonexistent-{SECRET}/credence.sqlite3")


@pytest.fixture
def broker_at(monkeypatch):
    """Point the app's broker (what the check connects to) at a port on this host."""
    def point(port: int) -> str:
        url = f"redis://:{SECRET}@127.0.0.1:{port}/9"
        monkeypatch.setattr(app.conf, "broker_write_url", url)
        return url
    return point


def _states(report: dict) -> dict:
    return {name: check["state"] for name, check in report["checks"].items()}


def _assert_shape(report: dict) -> None:
    assert set(report) == {"ok", "budget_ms", "checks"}
    assert set(report["checks"]) == {"database", "broker", "storage", "worker"}
    for check in report["checks"].values():
        assert set(check) == {"ok", "state", "detail", "ms"}
        assert check["state"] in {"up", "down", "timeout"}
        assert check["ok"] is (check["state"] == "up")


def _get_timed(client, path):
    client.get("/livez")  # the process's first request loads the URLconf: not the probe's cost
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


# --- Liveness -------------------------------------------------------------------------------

def test_livez_answers_without_touching_any_dependency(client, monkeypatch):
    """No `db` fixture: pytest-django refuses any database access, so this also proves none."""
    def must_not_run(timeout):
        raise AssertionError("liveness ran a readiness check")

    for name in health.CHECKS:
        monkeypatch.setitem(health.CHECKS, name, must_not_run)
    response = client.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "no-cache" in response["Cache-Control"]


# --- Readiness: each dependency unreachable -------------------------------------------------

@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_readiness_503_names_the_database_when_it_is_unreachable(client, database_unreachable,
                                                                 path):
    response = client.get(path)

    assert response.status_code == 503
    report = response.json()
    _assert_shape(report)
    assert report["ok"] is False
    assert report["checks"]["database"] == {**report["checks"]["database"], "ok": False,
                                            "state": "down", "detail": "OperationalError"}
    # The others are still reported on their own (storage is up either way).
    assert report["checks"]["storage"]["state"] == "up"
    assert report["budget_ms"] == BUDGET * 1000
    assert SECRET.encode() not in response.content  # a DSN's password never reaches the probe


def test_readiness_503_names_the_broker_when_it_refuses(client, db, broker_at):
    broker_at(_closed_port())

    response = client.get("/readyz")

    assert response.status_code == 503
    report = response.json()
    _assert_shape(report)
    assert report["checks"]["broker"]["state"] == "down"
    assert report["checks"]["broker"]["detail"] == "OperationalError"
    assert report["checks"]["database"]["state"] == "up"
    assert SECRET.encode() not in response.content


def test_storage_folder_is_made_like_the_storage_would_on_its_first_save(db, settings,
                                                                          tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "fresh" / "media")

    assert health.check_storage(BUDGET) == (True, "filesystem")
    assert (tmp_path / "fresh" / "media").is_dir()


def test_readiness_503_names_storage_when_its_folder_cannot_be_made(client, db, settings,
                                                                     tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")

    report = client.get("/readyz").json()

    assert report["ok"] is False
    assert report["checks"]["storage"] == {**report["checks"]["storage"], "ok": False,
                                           "state": "down", "detail": "NotADirectoryError"}


def test_readiness_503_when_no_worker_answers(client, db):
    app.control.purge()
    report = client.get("/readyz").json()

    assert report["ok"] is False
    assert report["checks"]["worker"]["state"] == "down"
    assert report["checks"]["worker"]["detail"] == "no worker answered"


# --- Readiness: a hung dependency costs the budget, not its own timeouts ---------------------

def test_hung_database_is_a_timeout_within_the_budget(client, on_postgresql, monkeypatch,
                                                      hung_server):
    monkeypatch.setitem(on_postgresql.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(on_postgresql.settings_dict, "PORT", str(hung_server))

    response, took = _get_timed(client, "/readyz")

    assert response.status_code == 503
    report = response.json()
    _assert_shape(report)
    assert report["checks"]["database"]["state"] == "timeout"
    assert report["checks"]["database"]["detail"] == f"no answer within {BUDGET:g} s"
    assert took < ANSWER_WITHIN  # libpq alone would have waited its 2 s connect timeout

    # A second probe while the first check still hangs waits on it instead of starting
    # another connection: one stuck thread per check at most, however often it is probed.
    running = health._in_flight["database"]
    assert not running.done()
    assert client.get("/readyz").json()["checks"]["database"]["state"] == "timeout"
    assert health._in_flight["database"] is running


def test_hung_broker_is_a_timeout_within_the_budget(client, db, broker_at, hung_server):
    if not app.conf.broker_url.startswith("redis://"):
        pytest.skip("the broker is kombu's memory transport here; a hung Redis needs Redis")
    broker_at(hung_server)

    response, took = _get_timed(client, "/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["state"] == "timeout"
    assert took < ANSWER_WITHIN


# --- Readiness when all is up ---------------------------------------------------------------

def test_each_check_up_on_its_own(db):
    assert health.check_database(BUDGET) == (True, connections["default"].vendor)
    ok, detail = health.check_broker(BUDGET)
    assert ok is True and detail == app.connection_for_write().transport.driver_name
    assert health.check_storage(BUDGET) == (True, "filesystem")


def test_healthz_is_get_only(client, db):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
