"""Storing a loan's repayment schedule: the rows of one schedule version, computed by the pure
functions of `apps.loans.schedules` from the loan's terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from apps.loans.models import Loan, ScheduleInstalment
from apps.loans.schedules import Instalment, build_schedule


def schedule_generate(*, loan: Loan, version: int, amount: Decimal, value_date: dt.date,
                      term_months: int, principal_rows=None) -> list[ScheduleInstalment]:
    """Compute and store schedule `version` of the loan (the caller holds the loan's lock and
    runs inside its transaction). Rows of other versions are kept: a restructuring adds one.
    The version is in force from `value_date` on (its `effective_from`)."""
    rows: list[Instalment] = build_schedule(
        method=loan.repayment_method, amount=amount, annual_rate_pct=loan.annual_rate,
        term_months=term_months, value_date=value_date, day_count=loan.day_count,
        principal_rows=principal_rows)
    return ScheduleInstalment.objects.bulk_create([
        ScheduleInstalment(loan=loan, version=version, number=row.number, due_date=row.due_date,
                           principal=row.principal, interest=row.interest,
                           effective_from=value_date) for row in rows])
