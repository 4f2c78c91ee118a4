"""Loan outcomes as the threshold report and training read them (through registered sources)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World
from apps.investigations.models import PolicyValue
from apps.loans.models import Disbursement, Loan, LoanContract, LoanDpd
from apps.loans.performance import observations_by_loan, performance_by_enterprise
from apps.products.report import performance_by_enterprise as report_performance
from apps.scoring.services.performance import outcome_labels

pytestmark = pytest.mark.django_db
# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


def _loan(application, *, number=1, state="active", value_date=None, points=(), dpd_as_of=None):
    """A loan on the file with its DPD history written as change points."""
    contract, _ = LoanContract.objects.get_or_create(
        application=application, defaults=dict(
            contract_number=f"C-{application.pk}", branch=application.branch,
            enterprise=application.enterprise, amount=Decimal("500000"),
            annual_rate=Decimal("4.350"), term_months=12, repayment_method="equal_principal",
            collateral_type="none", created_by=application.account_manager))
    value_date = value_date or today() - dt.timedelta(days=500)
    drawdown = Disbursement.objects.create(
        contract=contract, amount=Decimal("100000"), value_date=value_date,
        borrower_account="6222000011112222", payment_mode="independent",
        requested_by=application.account_manager)
    loan = Loan.objects.create(
        loan_number=f"L-{application.pk}-{number}", contract=contract, disbursement=drawdown,
        application=application, enterprise=application.enterprise, branch=application.branch,
        product_version=application.product_version, officer=application.account_manager,
        state=state, principal=Decimal("100000"), annual_rate=Decimal("4.350"),
        repayment_method="equal_principal", payment_mode="independent", value_date=value_date,
        maturity_date=value_date + dt.timedelta(days=365), outstanding_principal=Decimal("0"),
        dpd_as_of=dpd_as_of)
    LoanDpd.objects.bulk_create([LoanDpd(loan=loan, as_of=day, dpd_principal=dpd,
                                         dpd_interest=0) for day, dpd in points])
    return loan


@pytest.fixture
def world():
    world = World()
    PolicyValue.objects.get_or_create(key="classification.floor.substandard.dpd_gt", version=1,
                                      defaults={"value": Decimal(90), "unit": "days",
                                                "effective_from": dt.date(2023, 7, 1)})
    return world


def test_a_stretch_in_arrears_is_worst_on_its_last_day(world):
    application = world.in_state(S.DISBURSED)
    loan = _loan(application, points=[(dt.date(2026, 3, 1), 1), (dt.date(2026, 4, 10), 0)],
                 dpd_as_of=dt.date(2026, 6, 30))
    # 1 day past due on 1 March grows to 40 on 9 April, the day before the arrears cleared.
    assert observations_by_loan([loan.pk])[loan.pk] == [
        (dt.date(2026, 4, 9), 40), (dt.date(2026, 6, 30), 0)]


def test_ongoing_arrears_are_counted_to_the_day_last_computed(world):
    application = world.in_state(S.DISBURSED)
    loan = _loan(application, points=[(dt.date(2026, 3, 1), 5)], dpd_as_of=dt.date(2026, 3, 31))
    assert observations_by_loan([loan.pk])[loan.pk] == [(dt.date(2026, 3, 31), 35)]


def test_bad_means_past_the_policy_floor_restructured_or_written_off(world):
    application = world.in_state(S.DISBURSED)
    _loan(application, number=1, points=[(dt.date(2026, 1, 1), 1), (dt.date(2026, 4, 2), 0)])
    _loan(application, number=2, points=[(dt.date(2026, 1, 1), 1), (dt.date(2026, 3, 31), 0)])
    _loan(application, number=3, state="written_off")
    # 91 days on 1 April (> 90: bad); the second cleared at 89; the third was written off.
    expected = {application.enterprise_id: {"loans": 3, "bad": 2}}
    assert performance_by_enterprise([application.enterprise_id]) == expected
    # The report reads it through the registered source (loans sits right of products).
    assert report_performance([application.enterprise_id]) == expected


def test_a_queryset_of_enterprises_reads_as_the_list_of_its_ids(world):
    """The threshold report passes its population as a subquery (no list of every id): the
    same outcomes as the list, loans and their history read through subqueries too."""
    from apps.parties.models import Enterprise

    application = world.in_state(S.DISBURSED)
    _loan(application, number=1, points=[(dt.date(2026, 1, 1), 1), (dt.date(2026, 4, 2), 0)])
    _loan(application, number=2, points=[(dt.date(2026, 1, 1), 1), (dt.date(2026, 3, 31), 0)])
    _loan(application, number=3, state="written_off")
    other = world.in_state(S.DISBURSED)
    _loan(other, points=[(dt.date(2026, 1, 1), 5)])
    ids = [application.enterprise_id, other.enterprise_id]
    population = Enterprise.objects.filter(pk__in=ids).values_list("pk", flat=True)
    assert performance_by_enterprise(population) == performance_by_enterprise(ids)
    assert performance_by_enterprise(population)[application.enterprise_id] == {
        "loans": 3, "bad": 2}
    assert report_performance(population) == report_performance(ids)
    assert performance_by_enterprise(Enterprise.objects.none().values_list("pk", flat=True)) == {}
    loans = Loan.objects.filter(enterprise_id__in=ids)
    assert observations_by_loan(loans.values_list("pk", flat=True)) == observations_by_loan(
        list(loans.values_list("pk", flat=True)))


def test_the_floor_is_policy_data(world):
    application = world.in_state(S.DISBURSED)
    _loan(application, points=[(dt.date(2026, 1, 1), 1), (dt.date(2026, 3, 1), 0)])  # 59 days
    PolicyValue.objects.create(key="classification.floor.substandard.dpd_gt", version=2,
                               value=Decimal(30), unit="days", effective_from=dt.date(2024, 1, 1))
    assert performance_by_enterprise([application.enterprise_id])[
        application.enterprise_id]["bad"] == 1


def test_training_labels_come_from_the_loan_book(world):
    bad_file, good_file = world.in_state(S.DISBURSED), world.in_state(S.DISBURSED)
    paid = today() - dt.timedelta(days=500)
    # 1 dpd thirty days in, never paid: 90 dpd reached within the 12-month window.
    _loan(bad_file, value_date=paid, points=[(paid + dt.timedelta(days=30), 1)],
          dpd_as_of=today())
    _loan(good_file, value_date=paid, points=[], dpd_as_of=today())
    labels = outcome_labels()
    assert labels.outcomes[bad_file.pk] == 1
    assert labels.outcomes[good_file.pk] == 0


@pytest.mark.parametrize("loans", [1, 12])
def test_outcomes_take_the_same_queries_however_many_loans(world, loans,
                                                           django_assert_num_queries):
    application = world.in_state(S.DISBURSED)
    for number in range(loans):
        _loan(application, number=number, points=[(dt.date(2026, 1, 1), 3)])
    # Loans, policy values, the loans' last computed day, their history.
    with django_assert_num_queries(4):
        performance_by_enterprise([application.enterprise_id])
