"""Signers hear about waiting steps; reminders and escalation to team leads, each once."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from apps.approvals.services import approval_deadlines_sweep, approval_step_notify
from apps.approvals.tests.factories import in_approval
from apps.audit.models import AuditEvent
from apps.core.task_names import TaskName


@pytest.fixture
def waiting(world):
    application, route = in_approval(world)
    from apps.accounts.models import User

    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@bank.test")
    return route.steps.get()


def test_opening_a_step_sends_the_notify_task_after_commit(
        world, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    from celery import current_app

    monkeypatch.setattr(current_app, "send_task",
                        lambda name, kwargs, **options: sent.append((name, kwargs)))
    with django_capture_on_commit_callbacks(execute=True):
        application, route = in_approval(world)
    assert (str(TaskName.APPROVALS_STEP_NOTIFY), {"step_id": route.steps.get().pk}) in sent


def test_notify_mails_the_eligible_signers_once(waiting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert approval_step_notify(step_id=waiting.pk) is True
        assert approval_step_notify(step_id=waiting.pk) is False
    recipients = {message.to[0] for message in mail.outbox}
    assert "approver.north@bank.test" in recipients and "approver.hq@bank.test" in recipients
    assert not {"am.north@bank.test", "reviewer.north@bank.test",
                "approver.south@bank.test"} & recipients


def test_reminder_then_escalation_each_once(waiting, django_capture_on_commit_callbacks):
    assert approval_deadlines_sweep() == {"reminded": 0, "escalated": 0}
    later = waiting.remind_at + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert approval_deadlines_sweep(now=later) == {"reminded": 1, "escalated": 0}
        assert approval_deadlines_sweep(now=later) == {"reminded": 0, "escalated": 0}
    assert all("Reminder" in m.subject for m in mail.outbox) and mail.outbox
    mail.outbox.clear()
    overdue = waiting.due_at + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert approval_deadlines_sweep(now=overdue) == {"reminded": 0, "escalated": 1}
        assert approval_deadlines_sweep(now=overdue) == {"reminded": 0, "escalated": 0}
    assert [m.to for m in mail.outbox] == [["lead.north@bank.test"]]
    assert AuditEvent.objects.filter(action="approval_step.escalated").count() == 1


def test_deadlines_come_from_the_matrix_row(waiting):
    hours = waiting.route.rule.steps[0]["deadline_hours"]
    assert waiting.due_at - waiting.opened_at == dt.timedelta(hours=hours)
    assert waiting.due_at > timezone.now()


def test_a_decided_step_is_not_chased(waiting):
    from apps.approvals.services import step_sign
    from apps.approvals.tests.factories import PASSWORD, user

    step_sign(step_id=waiting.pk, actor=user("approver.north"), password=PASSWORD,
              decision="approve", reason="ok")
    later = timezone.now() + dt.timedelta(days=30)
    assert approval_deadlines_sweep(now=later) == {"reminded": 0, "escalated": 0}
