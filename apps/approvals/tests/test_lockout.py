"""Repeated wrong passwords at sign-off lock signing for the window (settings data), in the
service, the page and the API alike; a signature that counts clears the count."""

import datetime as dt
from unittest import mock

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.approvals.lockout import locked_until
from apps.approvals.services import SigningLocked, WrongPassword, step_sign
from apps.approvals.states import StepState
from apps.approvals.tests.factories import PASSWORD, in_approval
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_now

LIMIT_3 = override_settings(APPROVALS_SIGN_FAILURE_LIMIT=3,
                            APPROVALS_SIGN_FAILURE_WINDOW_MINUTES=15)


def _try(step, user, password):
    return step_sign(step_id=step.pk, actor=user, password=password, decision="approve",
                     reason="Cash flow is sound.")


def _later(minutes):
    return mock.patch("django.utils.timezone.now",
                      return_value=timezone.now() + dt.timedelta(minutes=minutes))


@LIMIT_3
def test_the_limit_locks_even_the_right_password_until_the_window_passes(world):
    _application, route = in_approval(world)
    step = route.steps.get()
    approver = world.user("approver.north")
    for _attempt in range(3):
        with pytest.raises(WrongPassword):
            _try(step, approver, "guess")
    with pytest.raises(SigningLocked) as locked:
        _try(step, approver, PASSWORD)
    assert locked.value.status_code == 429 and "locked until" in locked.value.detail
    event = AuditEvent.objects.get(action="approval.signing_locked")
    assert event.actor_id == approver.pk and event.payload["step"] == step.pk
    # Refusals while locked are not counted as password failures (the password is not read).
    assert AuditEvent.objects.filter(action="approval.password_refused").count() == 3
    with _later(14), pytest.raises(SigningLocked):
        _try(step, approver, PASSWORD)
    step.refresh_from_db()
    assert step.state == StepState.WAITING
    with _later(16):
        _try(step, approver, PASSWORD)
    step.refresh_from_db()
    assert step.state == StepState.APPROVED


@LIMIT_3
def test_the_lock_is_personal(world):
    _application, route = in_approval(world)
    step = route.steps.get()
    for _attempt in range(3):
        with pytest.raises(WrongPassword):
            _try(step, world.user("approver.north"), "guess")
    _try(step, world.user("head.north"), PASSWORD)
    step.refresh_from_db()
    assert step.state == StepState.APPROVED


@LIMIT_3
def test_a_counted_signature_clears_earlier_failures(world):
    user = world.user("approver.north")

    def fail():
        audit_record_now(action="approval.password_refused", actor=user, subject=user,
                         payload={"step": 0})

    fail()
    fail()
    audit_record_now(action="approval.signed", actor=user, subject=user, payload={})
    fail()
    fail()
    assert locked_until(user) is None
    fail()
    until = locked_until(user)
    assert until is not None
    assert dt.timedelta(minutes=14) < until - timezone.now() <= dt.timedelta(minutes=15)


@LIMIT_3
def test_page_and_api_both_answer_the_lock(world, client, api_as):
    _application, route = in_approval(world)
    step = route.steps.get()
    api = api_as("approver.north")
    url = f"/api/v1/approvals/steps/{step.pk}/sign/"
    body = {"decision": "approve", "reason": "ok", "password": "nope"}
    for _attempt in range(3):
        assert api.post(url, body, format="json").status_code == 403
    refused = api.post(url, {**body, "password": PASSWORD}, format="json")
    assert refused.status_code == 429 and refused.json()["code"] == "signing_locked"
    client.force_login(world.user("approver.north"))
    page = client.post(reverse("approvals:step-sign", args=[step.pk]),
                       {**body, "password": PASSWORD})
    assert page.status_code == 429 and "Too many wrong passwords" in page.content.decode()
    dossier = client.get(reverse("approvals:dossier", args=[step.route.application_id]))
    assert "signing is locked until" in dossier.content.decode()
    assert dossier.context["step_form"] is None
    step.refresh_from_db()
    assert step.state == StepState.WAITING
