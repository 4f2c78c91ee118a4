"""Restructurings reach the classification floor with their own days: the loan book's
restructure sends a task after it commits, the monthly run catches any it missed, and a
second restructuring of the same loan is a second row, each on the local business day."""

import datetime as dt
import zoneinfo
from unittest import mock

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.core.task_names import TaskName
from apps.loans.models import ScheduleInstalment
from apps.loans.services.lifecycle import loan_change_approve, loan_change_request
from apps.loans.tests.factories import LoanWorld
from apps.monitoring.models import LoanRestructuring
from apps.monitoring.services.classification import loan_restructurings_record
from apps.monitoring.services.run import _record_restructurings
from apps.monitoring.tasks import loan_restructurings_record_task


@pytest.fixture
def loans(db):
    return LoanWorld()


def restructure(world, loan):
    change = loan_change_request(loan_id=loan.pk, actor=world.maker, kind="restructure",
                                 reason="Longer term for seasonal cash flow",
                                 terms={"term_months": 12, "method": "equal_principal"})
    return loan_change_approve(change_id=change.pk, actor=world.checker, note="Agreed")


def days(loan):
    return sorted(LoanRestructuring.objects.filter(loan=loan)
                  .values_list("restructured_on", "source"))


def test_each_restructuring_is_recorded_on_its_own_day(loans):
    today = timezone.localdate()
    loan = restructure(loans, loans.loan(amount="50000.00"))
    sent = OutboxMessage.objects.filter(task_name=TaskName.MONITORING_RESTRUCTURINGS_RECORD)
    assert [m.kwargs for m in sent] == [{"loan_id": loan.pk}]
    assert loan_restructurings_record_task(loan.pk) == [str(today)]
    assert days(loan) == [(today, "loan book")]
    # The first restructuring was 40 days ago; today's is a second one: a second row.
    ScheduleInstalment.objects.filter(loan=loan, version=2).update(
        effective_from=F("effective_from") - dt.timedelta(days=40))
    loan = restructure(loans, loan)
    assert loan.schedule_version == 3 and sent.all().count() == 2
    assert loan_restructurings_record(loan_id=loan.pk) == [today - dt.timedelta(days=40),
                                                           today]
    assert loan_restructurings_record(loan_id=loan.pk) == [today - dt.timedelta(days=40),
                                                           today]  # idempotent
    assert days(loan) == [(today - dt.timedelta(days=40), "loan book"), (today, "loan book")]


def test_the_monthly_run_records_a_second_restructuring_the_task_missed(loans):
    today = timezone.localdate()
    loan = restructure(loans, loans.loan(amount="50000.00"))
    ScheduleInstalment.objects.filter(loan=loan, version=2).update(
        effective_from=F("effective_from") - dt.timedelta(days=40))
    loan_restructurings_record(loan_id=loan.pk)  # the first one's task ran
    loan = restructure(loans, loan)  # the second one's task is lost
    assert len(days(loan)) == 1
    _record_restructurings(loan.pk, loan.pk, today)
    assert days(loan) == [(today - dt.timedelta(days=40), "loan book"), (today, "loan book")]


def test_an_undated_restructuring_is_dated_from_the_audit_trail_in_local_time(loans):
    """A restructured loan with no later schedule version (booked before versions had a
    first day): the audit event's local business day, not its UTC date."""
    today = timezone.localdate()
    loan = loans.loan(amount="50000.00")
    # Restructured at 00:30 local time three days ago: the day before in UTC (local time
    # is ahead of UTC here), which is the date the run used to record.
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(0, 30), tzinfo=zone)
    assert local.astimezone(dt.UTC).date() == today - dt.timedelta(days=4)
    with mock.patch("django.utils.timezone.now", return_value=local):
        loan = restructure(loans, loan)
    ScheduleInstalment.objects.filter(loan=loan, version=2).update(version=9)
    assert AuditEvent.objects.filter(subject_type="loans.loan", subject_id=str(loan.pk),
                                     action="loan.restructured").get().occurred_at == local
    _record_restructurings(loan.pk, loan.pk, today)
    assert days(loan) == [(today - dt.timedelta(days=3), "audit trail")]
