"""Schedules from policy data: contract covenants recorded once, each kind tested at its
policy frequency, the annual review a policy lead time before the anniversary, a new policy
version taking over, and no schedule on a guess when a value is missing."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.investigations.models import PolicyValue
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import AnnualReview, Covenant, CovenantCheck
from apps.monitoring.covenant_policy import CK, add_months, next_anniversary, next_check_due
from apps.monitoring.tests.inspections.inspection_factories import policy_version


def test_contract_covenants_scheduled_once(world, covenant_loan):
    loan = covenant_loan()
    first = services.covenant_schedule_generate(loan_id=loan.pk)
    assert first == {"covenants": 2, "checks": 2, "reviews": 1}
    assert services.covenant_schedule_generate(loan_id=loan.pk) == {
        "covenants": 0, "checks": 0, "reviews": 0}
    covenants = list(Covenant.objects.filter(loan=loan).order_by("id"))
    assert [c.source for c in covenants] == ["contract", "contract"]
    assert covenants[0].text.startswith("Keep at least 60%")
    # "other" is tested every 6 months (seeded policy) from the value date, never in the
    # past: the first test date on or after today.
    check = CovenantCheck.objects.get(covenant=covenants[0])
    today = timezone.localdate()
    assert check.due_date == next_check_due(anchor=loan.value_date, months=6,
                                            one_off_days=None, not_before=today)
    assert check.due_date >= today
    assert check.policy_basis[CK.frequency("other")] == {"value": "6", "version": 1}


def test_annual_review_before_the_anniversary(world, covenant_loan):
    loan = covenant_loan()
    services.covenant_schedule_generate(loan_id=loan.pk)
    review = AnnualReview.objects.get(loan=loan)
    anniversary = add_months(loan.value_date, 12)
    assert (review.year, review.anniversary) == (1, anniversary)
    assert review.due_date == anniversary - dt.timedelta(days=30)
    assert review.policy_basis[CK.REVIEW_LEAD_DAYS]["value"] == "30"


def test_a_loan_maturing_before_its_anniversary_has_no_review():
    day = dt.date(2026, 1, 31)
    assert next_anniversary(value_date=day, maturity=add_months(day, 12), today=day) is None
    assert next_anniversary(value_date=day, maturity=add_months(day, 13), today=day) == (
        1, dt.date(2027, 1, 31))
    # Past anniversaries are not back-filled: the next one on or after today.
    assert next_anniversary(value_date=day, maturity=add_months(day, 36),
                            today=dt.date(2027, 3, 1)) == (2, dt.date(2028, 1, 31))


def test_frequency_per_kind_and_one_off(world, covenant_loan):
    loan = covenant_loan(covenants=[])
    officer = world.user("postloan.north")
    ratio = services.covenant_add(loan_id=loan.pk, actor=officer, kind="financial_ratio",
                                  text="Debt to assets at most 70%")
    funds = services.covenant_add(loan_id=loan.pk, actor=officer, kind="use_of_funds",
                                  text="Pay the supplier named in the contract")
    today = timezone.localdate()
    assert ratio.checks.get().due_date == add_months(today, 3)
    assert funds.checks.get().due_date == today + dt.timedelta(days=30)
    # A one-off covenant is not tested again once decided.
    check = funds.checks.get()
    services.covenant_check_submit(check_id=check.pk, actor=officer, result="complied",
                                   note="Voucher seen")
    services.covenant_check_accept(check_id=check.pk, actor=world.user("lead.north"))
    assert funds.checks.count() == 1
    # A recurring one is: the next test date is the frequency after the last one.
    check = ratio.checks.get()
    services.covenant_check_submit(check_id=check.pk, actor=officer, result="complied",
                                   note="Ratio 55%")
    services.covenant_check_accept(check_id=check.pk, actor=world.user("lead.north"))
    assert sorted(ratio.checks.values_list("due_date", flat=True)) == [
        add_months(today, 3), add_months(today, 6)]


def test_new_policy_version_takes_over(world, covenant_loan):
    loan = covenant_loan(covenants=[])
    policy_version(CK.frequency("information"), "2", effective_from=timezone.localdate())
    covenant = services.covenant_add(loan_id=loan.pk, actor=world.user("postloan.north"),
                                     kind="information", text="Monthly VAT returns")
    check = covenant.checks.get()
    assert check.due_date == add_months(timezone.localdate(), 2)
    assert check.policy_basis[CK.frequency("information")] == {"value": "2", "version": 2}


def test_missing_policy_refuses_to_schedule(world, covenant_loan):
    loan = covenant_loan()
    PolicyValue.objects.filter(key=CK.REVIEW_LEAD_DAYS).delete()
    with pytest.raises(services.CovenantPolicyMissing) as gap:
        services.covenant_schedule_generate(loan_id=loan.pk)
    assert CK.REVIEW_LEAD_DAYS in str(gap.value.detail)
    assert not AnnualReview.objects.filter(loan=loan).exists()
    assert not Covenant.objects.filter(loan=loan).exists()  # one transaction: all or none


def test_closed_loans_are_not_scheduled(world, covenant_loan):
    loan = covenant_loan(state="settled")
    assert services.covenant_schedule_generate(loan_id=loan.pk)["checks"] == 0
