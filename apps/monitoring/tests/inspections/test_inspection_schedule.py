"""Schedule generation from policy (domain reference §4.1 default schedule rules)."""

import datetime as dt

import pytest

from apps.monitoring import inspection_hooks
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_seed import seed_inspection_templates
from apps.monitoring.inspection_services import (
    ScheduleNotConfigured,
    inspection_request_special,
    inspection_schedule_generate,
)
from apps.monitoring.inspection_states import InspectionKind
from apps.monitoring.schedule_policy import (
    FIRST_DAYS,
    GRADE_INTERVAL,
    register_grade_source,
    tenor_months,
)
from apps.monitoring.tests.inspections.inspection_factories import make_loan, policy_version

pytestmark = pytest.mark.django_db

VALUE_DATE = dt.date(2026, 1, 10)


def _by_kind(loan) -> dict[str, list[Inspection]]:
    rows: dict[str, list[Inspection]] = {}
    for inspection in Inspection.objects.filter(loan=loan).order_by("due_date"):
        rows.setdefault(inspection.kind, []).append(inspection)
    return rows


def test_first_check_routine_and_maturity_check_from_policy(world):
    loan = make_loan(world, value_date=VALUE_DATE, months=12)
    created = inspection_schedule_generate(loan_id=loan.pk, today=VALUE_DATE)
    rows = _by_kind(loan)
    assert {i.kind for i in created} == {"m1", "m2", "m4"}
    first = rows["m1"][0]
    assert first.due_date == dt.date(2026, 1, 25)                  # 15 days (policy v1)
    assert first.policy_basis[FIRST_DAYS] == {"value": "15.000000", "version": 1}
    assert first.template.code == "postloan-m1"
    assert rows["m4"][0].due_date == dt.date(2026, 12, 11)          # 30 days before maturity
    # 12-month tenor → quarterly; no grade → default monthly: the stricter (monthly) wins.
    assert rows["m2"][0].due_date == dt.date(2026, 2, 10)


def test_generation_is_idempotent(world):
    loan = make_loan(world, value_date=VALUE_DATE)
    inspection_schedule_generate(loan_id=loan.pk, today=VALUE_DATE)
    again = inspection_schedule_generate(loan_id=loan.pk, today=VALUE_DATE)
    assert again == []
    assert Inspection.objects.filter(loan=loan).count() == 3


@pytest.mark.parametrize("grade, months, expected", [
    ("A", 12, dt.date(2026, 4, 10)),   # grade A semi-annual, tenor > 6 → quarterly: quarterly
    ("C", 12, dt.date(2026, 3, 10)),   # grade C bimonthly beats quarterly
    ("A", 5, dt.date(2026, 2, 10)),    # short tenor monthly beats semi-annual
])
def test_grade_and_tenor_stricter_wins(world, grade, months, expected):
    loan = make_loan(world, value_date=VALUE_DATE, months=months)

    def source(candidate):
        return f"grade.{grade}" if candidate.pk == loan.pk else None
    register_grade_source(source)
    try:
        inspection_schedule_generate(loan_id=loan.pk, today=VALUE_DATE)
    finally:
        from apps.monitoring import schedule_policy
        schedule_policy._grade_sources.remove(source)
    routine = _by_kind(loan)["m2"][0]
    assert routine.due_date == expected
    assert routine.policy_basis["risk_grade"] == {"value": f"grade.{grade}"}
    assert f"{GRADE_INTERVAL}grade.{grade}" in routine.policy_basis


def test_tenor_counts_partial_months():
    class L:
        value_date, maturity_date = dt.date(2026, 1, 10), dt.date(2026, 7, 11)
    assert tenor_months(L) == 7


def test_first_check_uses_policy_in_force_on_value_date(world):
    seed_inspection_templates()
    policy_version(FIRST_DAYS, "7", effective_from=dt.date(2026, 3, 1))
    before = make_loan(world, value_date=VALUE_DATE)
    after = make_loan(world, value_date=dt.date(2026, 3, 5))
    inspection_schedule_generate(loan_id=before.pk, today=dt.date(2026, 3, 5))
    inspection_schedule_generate(loan_id=after.pk, today=dt.date(2026, 3, 5))
    assert _by_kind(before)["m1"][0].due_date == dt.date(2026, 1, 25)
    assert _by_kind(after)["m1"][0].due_date == dt.date(2026, 3, 12)
    assert _by_kind(after)["m1"][0].policy_basis[FIRST_DAYS]["version"] == 2


def test_missing_policy_is_an_error_not_a_default(world):
    from apps.investigations.models import PolicyValue

    loan = make_loan(world, value_date=VALUE_DATE)
    PolicyValue.objects.filter(key=FIRST_DAYS).delete()
    with pytest.raises(ScheduleNotConfigured):
        inspection_schedule_generate(loan_id=loan.pk, today=VALUE_DATE)
    assert not Inspection.objects.filter(loan=loan).exists()


def test_special_check_after_level_2_or_3_signal(world):
    loan = make_loan(world, value_date=VALUE_DATE)
    special = inspection_hooks.request_special_check(
        loan_id=loan.pk, reason="W10 enforcement case (L3)", due_date=None)
    assert special.kind == InspectionKind.SPECIAL
    from django.utils import timezone
    assert special.due_date == timezone.localdate() + dt.timedelta(days=10)
    assert special.template.code == "postloan-special"
    # The same request again (a re-delivered signal) returns the same check.
    again = inspection_request_special(loan_id=loan.pk, reason="W10 again", due_date=None)
    assert again.pk == special.pk
    # A caller may ask for an earlier date, never a later one than policy allows.
    later = inspection_request_special(loan_id=loan.pk, reason="x",
                                       due_date=timezone.localdate() + dt.timedelta(days=60))
    assert later.pk == special.pk


def test_closed_loan_gets_no_schedule(world):
    from apps.loans.models import Loan
    from apps.loans.states import LoanState

    loan = make_loan(world, value_date=VALUE_DATE)
    Loan.objects.filter(pk=loan.pk).update(state=LoanState.SETTLED)
    assert inspection_schedule_generate(loan_id=loan.pk, today=VALUE_DATE) == []
