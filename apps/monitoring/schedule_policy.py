"""The post-loan inspection schedule as policy data (domain reference §4.1 "Default schedule
rules" [G], §0.2 policy-data rule).

Every day count and frequency is a `PolicyValue` row with its evidence tag and source, read
as in force on the day that matters (the value date for a first check, the signal's day for a
special check), and recorded on the inspection it produced (`Inspection.policy_basis`), so the
due date can be re-explained and diligence judged by the rules of its day (§4.6).

The risk grade comes through `loan_risk_key`, one small function: today it reads the grade of
the application's latest score (`apps.scoring`); the classification model of the monitoring
app can take over by registering a grade source (`register_grade_source`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from apps.investigations.models import PolicyValue
from apps.investigations.policy import policy_values_in_force

_REF = "Domain reference §4.1 default schedule rules"
_SRC = "51poswang.com/shuipiaobaogaozhongxin/5460.html [V]"

FIRST_DAYS = "inspection.first.days_after_value_date"
SHORT_TENOR_MAX = "inspection.routine.short_tenor_max_months"
SHORT_TENOR_INTERVAL = "inspection.routine.interval_months.short_tenor"
LONG_TENOR_INTERVAL = "inspection.routine.interval_months.long_tenor"
GRADE_INTERVAL = "inspection.routine.interval_months."      # + grade key, e.g. "grade.A"
GRADE_DEFAULT_INTERVAL = "inspection.routine.interval_months.default"
MATURITY_DAYS = "inspection.repayment_source.days_before_maturity"
SPECIAL_DAYS = "inspection.special.days_after_signal"

# key, value, unit, evidence, source, description
SCHEDULE_POLICIES: list[tuple[str, str, str, str, str, str]] = [
    (FIRST_DAYS, "15", "days", "V", f"{_REF}: small enterprise on site within 15 days "
     f"(configurable 7–30); {_SRC}", "First check (m1) is due this many days after the value date"),
    (SHORT_TENOR_MAX, "6", "months", "V", f"{_REF}: loans ≤ 6 months monthly; {_SRC}",
     "Loans of at most this tenor are checked at the short-tenor interval"),
    (SHORT_TENOR_INTERVAL, "1", "months", "V", f"{_REF}: tenor ≤ 6 months → monthly; {_SRC}",
     "Routine check interval for short loans"),
    (LONG_TENOR_INTERVAL, "3", "months", "V", f"{_REF}: otherwise at least quarterly; {_SRC}",
     "Routine check interval for longer loans (at most)"),
    (GRADE_INTERVAL + "grade.A", "6", "months", "V", f"{_REF}: top grade semi-annual; {_SRC}",
     "Routine check interval for grade A"),
    (GRADE_INTERVAL + "grade.B", "3", "months", "V", f"{_REF}: good grade quarterly; {_SRC}",
     "Routine check interval for grade B"),
    (GRADE_INTERVAL + "grade.C", "2", "months", "V", f"{_REF}: average bimonthly; {_SRC}",
     "Routine check interval for grade C"),
    (GRADE_INTERVAL + "grade.D", "1", "months", "V", f"{_REF}: weak monthly; {_SRC}",
     "Routine check interval for grade D"),
    (GRADE_INTERVAL + "grade.E", "1", "months", "G", f"{_REF}: weak monthly [G]",
     "Routine check interval for grade E"),
    (GRADE_INTERVAL + "class.special_mention", "1", "months", "G",
     f"{_REF}: weak or 关注 monthly [G]", "Routine check interval for loans classified 关注"),
    (GRADE_DEFAULT_INTERVAL, "1", "months", "G",
     f"{_REF}: an unknown grade is treated as weak [G]",
     "Routine check interval when the loan has no grade"),
    (MATURITY_DAYS, "30", "days", "G", f"{_REF}: repayment-source check 30 days before "
     "maturity [G]", "Repayment-source check (m4) is due this many days before maturity"),
    (SPECIAL_DAYS, "10", "days", "G", f"{_REF}: special check within 10 days of an L2/L3 "
     "signal [G]; §4.4 L2 SLA", "Special check is due this many days after an L2/L3 signal"),
]


def seed_schedule_policies() -> list[str]:
    """Create version 1 of each schedule policy not on file yet (idempotent; never rewrites a
    value already there, §0.2)."""
    created = []
    for key, value, unit, evidence, source, description in SCHEDULE_POLICIES:
        _, was_created = PolicyValue.objects.get_or_create(
            key=key, version=1,
            defaults={"value": Decimal(value), "unit": unit, "evidence": evidence,
                      "source_citation": source, "description_en": description,
                      "effective_from": dt.date(2024, 1, 1)})
        if was_created:
            created.append(key)
    return created


class SchedulePolicyMissing(Exception):
    """A schedule policy value is not in force: the schedule cannot be computed (never a
    silent default)."""

    def __init__(self, key: str, on: dt.date):
        self.key, self.on = key, on
        super().__init__(f"policy value {key} is not in force on {on.isoformat()}")


@dataclass
class SchedulePolicy:
    """The schedule values in force on one day; `basis` records each one read (value and
    version) for the inspection it produces."""

    on: dt.date
    _rows: dict[str, PolicyValue] = field(default_factory=dict)
    basis: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def in_force(cls, on: dt.date) -> SchedulePolicy:
        return cls(on=on, _rows=policy_values_in_force(on=on))

    def get(self, key: str, *, required: bool = True) -> int | None:
        row = self._rows.get(key)
        if row is None:
            if required:
                raise SchedulePolicyMissing(key, self.on)
            return None
        self.basis[key] = {"value": str(row.value), "version": row.version}
        return int(row.value)


# --- the risk grade, read through one replaceable function ------------------------------------

GradeSource = Callable[[object], str | None]
_grade_sources: list[GradeSource] = []


def register_grade_source(source: GradeSource) -> None:
    """Put a grade source first (e.g. the five-category classification once it exists):
    `source(loan) -> "class.special_mention" | "grade.B" | None` (None: ask the next one)."""
    if source not in _grade_sources:
        _grade_sources.insert(0, source)


def _score_grade(loan) -> str | None:
    from apps.scoring.models import ScoreResult

    grade = (ScoreResult.objects.filter(application_id=loan.application_id)
             .order_by("-created_at", "-id").values_list("grade", flat=True).first())
    return f"grade.{grade}" if grade else None


def loan_risk_key(loan) -> str | None:
    """The loan's risk grade as a policy-key suffix: the first registered source that knows
    it, else the application's latest score grade."""
    for source in (*_grade_sources, _score_grade):
        key = source(loan)
        if key:
            return key
    return None


# --- date arithmetic ---------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def tenor_months(loan) -> int:
    """Whole months from value date to maturity, rounded up (a 6-month-and-a-day loan is > 6)."""
    months = ((loan.maturity_date.year - loan.value_date.year) * 12
              + loan.maturity_date.month - loan.value_date.month)
    if add_months(loan.value_date, months) < loan.maturity_date:
        months += 1
    return months


# --- the rules ---------------------------------------------------------------------------------


def first_check_due(loan, policy: SchedulePolicy) -> dt.date:
    """m1: within N days of disbursement (the value date)."""
    return loan.value_date + dt.timedelta(days=policy.get(FIRST_DAYS))


def routine_interval_months(loan, policy: SchedulePolicy) -> int:
    """Routine frequency: the grade's interval and the tenor's, the stricter (shorter) wins."""
    short_max = policy.get(SHORT_TENOR_MAX)
    tenor_interval = policy.get(SHORT_TENOR_INTERVAL if tenor_months(loan) <= short_max
                                else LONG_TENOR_INTERVAL)
    grade_key = loan_risk_key(loan)
    grade_interval = (policy.get(GRADE_INTERVAL + grade_key, required=False)
                      if grade_key else None)
    if grade_interval is None:
        grade_interval = policy.get(GRADE_DEFAULT_INTERVAL)
    if grade_key:
        policy.basis["risk_grade"] = {"value": grade_key}
    return max(1, min(tenor_interval, grade_interval))


def repayment_check_due(loan, policy: SchedulePolicy) -> dt.date:
    """m4: N days before maturity."""
    return loan.maturity_date - dt.timedelta(days=policy.get(MATURITY_DAYS))


def special_check_due(signal_day: dt.date, policy: SchedulePolicy) -> dt.date:
    """Special check: within N days of a level-2/3 signal."""
    return signal_day + dt.timedelta(days=policy.get(SPECIAL_DAYS))
