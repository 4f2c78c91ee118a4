"""The evidence pack's post-loan duty is evaluated from inspections (§4.6 尽职免责): a loan
with a missed first inspection fails it; one done on time fulfils it."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_services import (
    inspection_schedule_generate,
    inspection_start,
    inspection_submit,
)
from apps.monitoring.schedule_policy import FIRST_DAYS
from apps.monitoring.tests.inspections.inspection_factories import (
    answer_all_m1,
    make_loan,
    policy_version,
)
from apps.oversight.duties import FULFILLED, NOT_FULFILLED, NOT_REACHED, build_pack

pytestmark = pytest.mark.django_db

CONCLUSION = {"proposed_class": "normal", "class_reason": "As agreed."}


def _duty(application):
    pack = build_pack(application)
    return next(line.result for line in pack.lines if line.rule.code == "post-loan-inspections")


def _do_first_check(world, loan):
    officer = world.user("postloan.north")
    m1 = Inspection.objects.get(loan=loan, kind="m1")
    inspection_start(inspection_id=m1.pk, actor=officer)
    answer_all_m1(m1, officer)
    inspection_submit(inspection_id=m1.pk, actor=officer, **CONCLUSION)


def test_missed_first_inspection_fails_the_duty(world):
    loan = make_loan(world, value_date=timezone.localdate() - dt.timedelta(days=40))
    inspection_schedule_generate(loan_id=loan.pk)
    result = _duty(loan.application)
    assert result.status == NOT_FULFILLED
    assert any("first inspection" in text and "not done" in text for text in result.exceptions)


def test_never_scheduled_first_inspection_still_fails(world):
    loan = make_loan(world, value_date=timezone.localdate() - dt.timedelta(days=40))
    assert not Inspection.objects.filter(loan=loan).exists()
    assert _duty(loan.application).status == NOT_FULFILLED


def test_late_first_inspection_fails_the_duty(world):
    loan = make_loan(world, value_date=timezone.localdate() - dt.timedelta(days=20))
    inspection_schedule_generate(loan_id=loan.pk)
    _do_first_check(world, loan)
    result = _duty(loan.application)
    assert result.status == NOT_FULFILLED
    assert any("after its deadline" in text for text in result.exceptions)


def test_first_inspection_on_time_fulfils_the_duty(world):
    loan = make_loan(world, value_date=timezone.localdate() - dt.timedelta(days=5))
    inspection_schedule_generate(loan_id=loan.pk)
    assert _duty(loan.application).status == NOT_REACHED  # nothing due yet
    _do_first_check(world, loan)
    result = _duty(loan.application)
    assert result.status == FULFILLED, result.exceptions
    assert result.events  # the inspection's audit events are cited


def test_judged_by_the_policy_in_force_on_the_value_date(world):
    loan = make_loan(world, value_date=timezone.localdate() - dt.timedelta(days=20))
    # A laxer window published later does not excuse a check missed under the old one.
    policy_version(FIRST_DAYS, "30", effective_from=timezone.localdate() - dt.timedelta(days=2))
    result = _duty(loan.application)
    assert result.status == NOT_FULFILLED
    assert any("policy version 1" in text for text in result.exceptions)
