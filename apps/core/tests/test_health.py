"""apps.core.health and /healthz with each dependency failing in turn.

Failures are simulated at the edge each check talks to (DB cursor, broker connection, control
ping), so the real check code runs; the point is a full report and a 503, never a crash.
"""

from unittest import mock

import pytest
from django.db import OperationalError as DatabaseError
from kombu.exceptions import OperationalError as BrokerError

from apps.core import health
from config.celery import app

# An exception message can carry a DSN with a password; /healthz is public.
SECRET_MESSAGE = "connection to postgres://credence:hunter2@db.internal failed"

ONE_WORKER = [{"worker@node1": {"ok": "pong"}}]


@pytest.fixture
def worker_answers():
    with mock.patch.object(app.control, "ping", return_value=ONE_WORKER) as ping:
        yield ping


@pytest.fixture
def broker_down():
    conn = mock.MagicMock()
    conn.__enter__.return_value.ensure_connection.side_effect = BrokerError(SECRET_MESSAGE)
    with mock.patch.object(app, "connection_for_write", return_value=conn):
        yield


@pytest.fixture
def database_down():
    with mock.patch.object(health, "connection") as connection:
        connection.cursor.side_effect = DatabaseError(SECRET_MESSAGE)
        yield


def _assert_shape(report: dict) -> None:
    assert set(report) == {"ok", "checks"}
    assert set(report["checks"]) == {"database", "broker", "worker"}
    for check in report["checks"].values():
        assert set(check) == {"ok", "detail"}
        assert isinstance(check["ok"], bool) and isinstance(check["detail"], str)


# --- Each check on its own ------------------------------------------------------------------

def test_check_database_ok(db):
    assert health.check_database() == (True, health.connection.vendor)


def test_check_database_reports_the_error_class_only(database_down, caplog):
    assert health.check_database() == (False, "OperationalError")
    assert "database check failed" in caplog.text  # the full message goes to the log only


def test_check_database_failing_on_execute(db):
    with mock.patch.object(health, "connection") as connection:
        cursor = connection.cursor.return_value.__enter__.return_value
        cursor.execute.side_effect = DatabaseError("server closed the connection unexpectedly")
        assert health.check_database() == (False, "OperationalError")


def test_check_broker_ok():
    ok, detail = health.check_broker()
    assert ok is True
    assert detail == app.connection_for_write().transport.driver_name


def test_check_broker_down(broker_down, caplog):
    assert health.check_broker() == (False, "OperationalError")
    assert "broker check failed" in caplog.text


def test_check_broker_unreachable_url_is_a_report_not_a_crash():
    with mock.patch.object(app, "connection_for_write",
                           side_effect=ConnectionRefusedError(SECRET_MESSAGE)):
        assert health.check_broker() == (False, "ConnectionRefusedError")


def test_check_worker_counts_replies_without_naming_hosts():
    replies = [{"worker@node1": {"ok": "pong"}}, {"worker@node2": {"ok": "pong"}}]
    with mock.patch.object(app.control, "ping", return_value=replies) as ping:
        assert health.check_worker(timeout=0.2) == (True, "2 answered")
    ping.assert_called_once_with(timeout=0.2)


@pytest.mark.parametrize("replies", [[], None])
def test_check_worker_no_reply(replies):
    with mock.patch.object(app.control, "ping", return_value=replies):
        assert health.check_worker() == (False, "no worker answered")


def test_check_worker_ping_raises(caplog):
    with mock.patch.object(app.control, "ping", side_effect=BrokerError(SECRET_MESSAGE)):
        assert health.check_worker() == (False, "OperationalError")
    assert "worker ping failed" in caplog.text


# --- The report -----------------------------------------------------------------------------

def test_report_all_ok(db, worker_answers):
    report = health.health_report()

    _assert_shape(report)
    assert report["ok"] is True
    assert report["checks"]["worker"] == {"ok": True, "detail": "1 answered"}


@pytest.mark.parametrize("failing", ["database", "broker", "worker"])
def test_report_one_failure_fails_the_whole_and_keeps_the_others(db, failing):
    patches = {
        "database": mock.patch.object(health, "check_database",
                                      return_value=(False, "OperationalError")),
        "broker": mock.patch.object(health, "check_broker",
                                    return_value=(False, "OperationalError")),
        "worker": mock.patch.object(app.control, "ping", return_value=[]),
    }
    with mock.patch.object(app.control, "ping", return_value=ONE_WORKER), patches[failing]:
        report = health.health_report()

    _assert_shape(report)
    assert report["ok"] is False
    assert {name: c["ok"] for name, c in report["checks"].items()} == {
        name: name != failing for name in ("database", "broker", "worker")}


def test_report_everything_down(database_down, broker_down):
    with mock.patch.object(app.control, "ping", side_effect=BrokerError(SECRET_MESSAGE)):
        report = health.health_report()

    _assert_shape(report)
    assert report == {"ok": False, "checks": {
        "database": {"ok": False, "detail": "OperationalError"},
        "broker": {"ok": False, "detail": "OperationalError"},
        "worker": {"ok": False, "detail": "OperationalError"},
    }}


# --- /healthz -------------------------------------------------------------------------------

def test_healthz_200_when_all_ok(client, db, worker_answers):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]  # a cached 200 would hide an outage
    report = response.json()
    _assert_shape(report)
    assert report["ok"] is True


def test_healthz_503_when_the_worker_does_not_answer(client, db):
    with mock.patch.object(app.control, "ping", return_value=[]):
        response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    _assert_shape(report)
    assert report["checks"]["worker"] == {"ok": False, "detail": "no worker answered"}
    assert report["checks"]["database"]["ok"] and report["checks"]["broker"]["ok"]


def test_healthz_503_with_database_down_never_leaks_the_message(client, database_down,
                                                                 broker_down):
    with mock.patch.object(app.control, "ping", return_value=ONE_WORKER):
        response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    _assert_shape(report)
    assert report["checks"]["database"] == {"ok": False, "detail": "OperationalError"}
    assert report["checks"]["broker"] == {"ok": False, "detail": "OperationalError"}
    assert b"hunter2" not in response.content and b"db.internal" not in response.content


def test_healthz_is_get_only(client, db):
    assert client.post("/healthz").status_code == 405
