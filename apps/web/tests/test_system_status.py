from unittest import mock

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage, TaskProbe
from apps.web import views

HEALTHY = {"ok": False, "budget_ms": 400, "checks": {
    "database": {"ok": True, "state": "up", "detail": "postgresql", "ms": 3.1},
    "broker": {"ok": True, "state": "up", "detail": "redis", "ms": 1.2},
    "storage": {"ok": False, "state": "timeout", "detail": "no answer within 0.4 s", "ms": 400},
    "worker": {"ok": False, "state": "down", "detail": "no worker answered", "ms": 320},
}}


@pytest.fixture(autouse=True)
def no_broker_round_trips(monkeypatch):
    # The real checks ping the broker and wait for workers; the page, not the checks, is tested.
    monkeypatch.setattr(views, "health_report", lambda: HEALTHY)


def test_admin_sees_the_checks_and_the_probe_button(client, user_named):
    client.force_login(user_named("admin.north"))

    response = client.get(reverse("web:system-status"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-check="database"' in html and "Message broker" in html
    assert "no worker answered" in html
    assert "File storage" in html and "No answer in time" in html
    assert "within 400 ms" in html
    assert f'hx-post="{reverse("web:task-probe-create")}"' in html


@pytest.mark.parametrize("username", ["am.north", "auditor.south", "lead.north", "approver.south"])
def test_others_are_refused_and_the_refusal_is_audited(client, user_named, username):
    user = user_named(username)
    client.force_login(user)

    response = client.get(reverse("web:system-status"))

    assert response.status_code == 403
    assert "You do not have permission to see this page" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.permission_refused")
    assert event.actor_id == user.pk
    assert event.payload["path"] == reverse("web:system-status")
    assert event.payload["method"] == "GET"


def test_anonymous_is_sent_to_sign_in_not_refused(client, db):
    response = client.get(reverse("web:system-status"))

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="auth.permission_refused").exists()


def test_sending_a_probe_queues_exactly_one_task_on_commit(
        client, user_named, django_capture_on_commit_callbacks):
    admin = user_named("admin.north")
    client.force_login(admin)

    with mock.patch("apps.core.queue.current_app.send_task") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(reverse("web:task-probe-create"), HTTP_HX_REQUEST="true")

        assert response.status_code == 201
        probe = TaskProbe.objects.get()
        assert probe.requested_by == admin
        assert f'id="probe-{probe.pk}"' in response.content.decode()
        send.assert_not_called()  # nothing leaves before the probe row is committed
        # ...but the task is already durable: an outbox row in the probe's transaction.
        message = OutboxMessage.objects.get()
        assert (message.task_name, message.kwargs) == ("core.ping", {"probe_id": str(probe.pk)})
        assert len(callbacks) == 1

        callbacks[0]()
        assert send.call_args.args == ("core.ping",)
        assert send.call_args.kwargs["kwargs"] == {"probe_id": str(probe.pk)}


def test_a_non_admin_cannot_send_a_probe(client, user_named):
    client.force_login(user_named("am.north"))

    response = client.post(reverse("web:task-probe-create"))

    assert response.status_code == 403
    assert not TaskProbe.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_probe_creation_needs_post(client, user_named):
    client.force_login(user_named("admin.north"))

    assert client.get(reverse("web:task-probe-create")).status_code == 405


def test_the_probe_partial_polls_until_a_worker_ran_it(client, user_named):
    admin = user_named("admin.north")
    client.force_login(admin)
    probe = TaskProbe.objects.create(requested_by=admin)
    url = reverse("web:task-probe-detail", args=[probe.pk])

    waiting = client.get(url).content.decode()
    assert 'data-executed="no"' in waiting and f'hx-get="{url}"' in waiting

    TaskProbe.objects.filter(pk=probe.pk).update(executed_at=probe.requested_at,
                                                 worker_hostname="celery@w1", worker_pid=42)
    done = client.get(url).content.decode()
    assert 'data-executed="yes"' in done and "hx-get" not in done
    assert "celery@w1" in done and "42" in done
