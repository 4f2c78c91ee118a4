"""Covenant and annual-review schedules as policy data (domain reference §6.3, §0.2).

Test frequencies per covenant kind, the reminder and escalation windows and the annual
review's lead time are `PolicyValue` rows seeded by `apps.monitoring.seed` (evidence tag
and citation), read as in force on the day that matters and recorded on each check or
review they produced (`policy_basis`), so a due date can be re-explained later.
"""

from __future__ import annotations

import calendar
import datetime as dt

from apps.core.policy import Evidence
from apps.monitoring.policy import MissingPolicy, Policy


class CK:
    """Policy key names (the values live in the database)."""

    REMIND_DAYS = "covenant.reminder_days_before_due"
    ESCALATE_DAYS = "covenant.escalation_days_after_due"
    ONE_OFF_DAYS = "covenant.one_off_days_after_start"
    REVIEW_LEAD_DAYS = "annual_review.lead_days_before_anniversary"
    REVIEW_REMIND_DAYS = "annual_review.reminder_days_before_due"
    REVIEW_ESCALATE_DAYS = "annual_review.escalation_days_after_due"

    @staticmethod
    def frequency(kind: str) -> str:
        """Months between tests of a covenant of this kind; 0 = tested once."""
        return f"covenant.frequency_months.{kind}"


_REF = "Domain reference §6.3 covenants (test frequency per covenant) [G]"
G = Evidence.DESIGN
# key, value, unit, evidence, citation (seeded by apps.monitoring.seed with the rest)
COVENANT_POLICY = [
    (CK.frequency("financial_ratio"), "3", "months", G,
     f"{_REF}: ratios tested on the quarterly statements"),
    (CK.frequency("information"), "1", "months", G,
     f"{_REF}: information undertakings such as monthly VAT returns and utility bills"),
    (CK.frequency("use_of_funds"), "0", "months", G,
     f"{_REF}: use of funds is tested once, after the drawdown"),
    (CK.frequency("other"), "6", "months", G, f"{_REF}: other undertakings twice a year"),
    (CK.ONE_OFF_DAYS, "30", "days", G, f"{_REF}: a one-off test is due within 30 days"),
    (CK.REMIND_DAYS, "7", "days", G, "Design default: remind the officer a week before"),
    (CK.ESCALATE_DAYS, "5", "days", G, "Design default: the branch head hears of a check "
     "still missing 5 days after its due date (as §4.4 L1 SLA)"),
    (CK.REVIEW_LEAD_DAYS, "30", "days", G, "Design default: the annual review is done a "
     "month before each anniversary of the value date"),
    (CK.REVIEW_REMIND_DAYS, "14", "days", G, "Design default: remind two weeks before"),
    (CK.REVIEW_ESCALATE_DAYS, "5", "days", G, "Design default: escalate 5 days after"),
]


class SchedulePolicyGap(MissingPolicy):
    """A covenant or review schedule value is not in force (never a silent default)."""


def read(policy: Policy, key: str, basis: dict) -> int:
    """An integer policy value, recorded in `basis` with its version."""
    value = policy.integer(key)
    basis[key] = {"value": str(value), "version": policy.used[key]}
    return value


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_check_due(*, anchor: dt.date, months: int, one_off_days: int | None,
                   not_before: dt.date) -> dt.date:
    """The next test date of a covenant: `anchor` + the frequency, stepped forward until it
    is on or after `not_before` (a covenant recorded late is not owed for the past); a
    one-off covenant (frequency 0) is due `one_off_days` after the later of the two."""
    if months <= 0:
        return max(anchor, not_before) + dt.timedelta(days=one_off_days or 0)
    due, step = add_months(anchor, months), 1
    while due < not_before:
        step += 1
        due = add_months(anchor, months * step)
    return due


def next_anniversary(*, value_date: dt.date, maturity: dt.date, today: dt.date
                     ) -> tuple[int, dt.date] | None:
    """(year number, date) of the loan's first anniversary on or after today and before
    maturity; None when the loan matures first (a one-year loan has no annual review)."""
    year = 1
    while True:
        day = add_months(value_date, 12 * year)
        if day >= maturity:
            return None
        if day >= today:
            return year, day
        year += 1
