import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.applications import services
from apps.applications.states import ApplicationState
from apps.demo.lifecycle import walk_to_state
from apps.parties.models import Enterprise
from apps.products import report as report_module
from apps.products.facts import FACTS, controller_edges_prefetch
from apps.products.models import EntryCondition
from apps.products.report import (
    REACHED_APPROVAL,
    REJECTED,
    Population,
    default_report_version,
    performance_by_enterprise,
    report_versions,
    threshold_report,
)

pytestmark = pytest.mark.django_db


def _report(world, viewer="admin.north", population=Population.APPLICANTS, version=None):
    return threshold_report(viewer=world.user(viewer), version=version or world.version,
                            on=timezone.localdate(), population=population)


def _rows(report):
    return {row.condition.code: row for row in report.conditions}


def _applicant(world, state=ApplicationState.DRAFT, **overrides):
    enterprise = world.enterprise(**overrides)
    walk_to_state(world.draft(enterprise=enterprise), state, branch_code="north")
    return enterprise


def test_counts_alone_together_and_unknown(world):
    _applicant(world)                                                  # admitted
    _applicant(world, tax_credit_rating="C")                           # tax-rating alone
    _applicant(world, tax_credit_rating="C", size_class="medium")      # tax + size together
    _applicant(world, registration_date=None)                          # unknown years, alone

    report = _report(world)
    rows = _rows(report)

    assert report.enterprises == 4
    assert (report.admitted.enterprises, report.excluded.enterprises) == (1, 3)
    tax, size, years = rows["tax-rating"], rows["size-class"], rows["years-in-operation"]
    assert (tax.failed, tax.excluded_alone, tax.excluded_with_others, tax.unknown) == (2, 1, 1, 0)
    assert (size.failed, size.excluded_alone, size.excluded_with_others) == (1, 0, 1)
    assert (years.failed, years.excluded_alone, years.unknown) == (1, 1, 1)
    assert rows["controller-age"].failed == 0


def test_admitted_outcomes_by_state_and_approval_rate(world):
    for state in (ApplicationState.APPROVED, ApplicationState.DISBURSED,
                  ApplicationState.REJECTED, ApplicationState.UNDER_REVIEW):
        _applicant(world, state=state)

    admitted = _report(world).admitted

    assert admitted.enterprises == admitted.applications == 4
    assert (admitted.reached_approval, admitted.rejected, admitted.decided) == (2, 1, 3)
    assert admitted.approval_rate == Decimal("66.7")
    assert {s.state: s.count for s in admitted.by_state} == {
        "approved": 1, "disbursed": 1, "rejected": 1, "under_review": 1}


def test_no_decision_yet_is_no_rate_not_zero(world):
    _applicant(world)
    assert _report(world).admitted.approval_rate is None


def test_stored_record_is_counted_beside_current_data(world):
    enterprise = _applicant(world, state=ApplicationState.SUBMITTED)
    # The rating dropped after the decision: today it fails, at submission it passed.
    Enterprise.objects.filter(pk=enterprise.pk).update(tax_credit_rating="D")

    report = _report(world)
    tax = _rows(report)["tax-rating"]

    assert report.stored_records == 1
    assert (tax.failed, tax.stored_checked, tax.stored_failed, tax.stored_passed_now_fails) == (
        1, 1, 0, 1)
    assert all(row.stored_checked == 1 for row in report.conditions)


def test_excluded_alone_strong_profile_is_a_tax_rating_proxy(world):
    _applicant(world, size_class="medium", tax_credit_rating="A")
    _applicant(world, size_class="medium", tax_credit_rating="M")

    size = _rows(_report(world))["size-class"]

    assert size.excluded_alone == 2
    assert size.excluded_alone_outcomes.strong_profile == 1
    assert size.excluded_alone_outcomes.by_state[0].state == "draft"


def test_customers_population_includes_those_who_never_applied(world):
    _applicant(world)
    world.enterprise(tax_credit_rating="C")  # never applied

    applicants = _report(world)
    customers = _report(world, population=Population.CUSTOMERS)

    assert applicants.enterprises == 1
    assert customers.enterprises == Enterprise.objects.count() == 2
    assert _rows(customers)["tax-rating"].excluded_alone == 1
    assert customers.excluded.applications == 0


def test_viewer_sees_only_their_branches(world):
    _applicant(world)
    south = world.enterprise(branch=world.south)
    services.application_create(enterprise=south, product_version=world.version,
                                actor=world.user("am.south"), amount_requested=Decimal("500000"))

    assert _report(world, viewer="admin.north").enterprises == 2  # admins span the bank
    assert _report(world, viewer="lead.north").enterprises == 1
    assert _report(world, viewer="lead.south").enterprises == 1
    assert _report(world, viewer="lead.south", population=Population.CUSTOMERS).enterprises == 1


def test_announced_condition_is_a_what_if_that_admits_no_one_less(world):
    _applicant(world, employees=2)
    # Announced with the version (its own later start date); the seed publishes the version
    # first, and a published version refuses new rows, so the row goes in underneath.
    EntryCondition.objects.bulk_create([EntryCondition(
        version=world.version, code="employees", position=99, fact="employees",
        operator="gte", value="5", reason_en="At least 5 employees", reason_zh="从业人员不少于5人",
        effective_from=timezone.localdate() + dt.timedelta(days=30))])

    report = _report(world)
    row = _rows(report)["employees"]

    assert not row.in_force
    assert (row.failed, row.excluded_alone) == (1, 1)
    assert report.admitted.enterprises == 1


def test_prefetched_controller_age_agrees_with_the_query(world):
    on = timezone.localdate()
    with_controller = world.enterprise()
    without = world.enterprise()
    without.relationships_in.all().delete()
    ids = [with_controller.pk, without.pk]
    prefetched = Enterprise.objects.filter(pk__in=ids).prefetch_related(
        controller_edges_prefetch()).order_by("pk")
    for enterprise in prefetched:
        plain = Enterprise.objects.get(pk=enterprise.pk)
        assert FACTS["controller_age"].compute(enterprise, on) == FACTS[
            "controller_age"].compute(plain, on)
    assert FACTS["controller_age"].compute(prefetched[1], on) is None


def test_the_reports_controller_edges_agree_with_the_query(world):
    """The report reads the population's controller edges in one query (the population as a
    subquery): each enterprise's controller age is what a query of its own finds."""
    from apps.products.report import _attach_controller_edges

    on = timezone.localdate()
    with_controller = world.enterprise()
    without = world.enterprise()
    without.relationships_in.all().delete()
    population = Enterprise.objects.filter(pk__in=[with_controller.pk, without.pk])
    enterprises = list(population.order_by("pk"))
    _attach_controller_edges(enterprises, population)
    ages = [FACTS["controller_age"].compute(e, on) for e in enterprises]
    assert ages == [FACTS["controller_age"].compute(Enterprise.objects.get(pk=e.pk), on)
                    for e in enterprises]
    assert ages[0] is not None and ages[1] is None


def test_state_codes_are_application_states():
    assert set(REACHED_APPROVAL) | {REJECTED} <= set(ApplicationState.values)


def test_performance_hook_is_empty_until_loans_exist(world):
    _applicant(world)
    assert performance_by_enterprise([1, 2]) == {}
    report = _report(world)
    assert not report.performance_available and report.admitted.loans is None


def test_performance_hook_results_are_summed_per_group(world, monkeypatch):
    good = _applicant(world)
    _applicant(world, tax_credit_rating="C")
    monkeypatch.setattr(report_module, "performance_by_enterprise",
                        lambda ids: {good.pk: {"loans": 2, "bad": 1}})

    report = _report(world)

    assert report.performance_available
    assert (report.admitted.loans, report.admitted.bad_loans) == (2, 1)
    assert (report.excluded.loans, report.excluded.bad_loans) == (0, 0)


def test_default_version_is_the_one_in_force(world):
    assert default_report_version(product=world.version.product,
                                  on=timezone.localdate()) == world.version


def test_default_version_from_the_listed_versions_matches_the_query(world):
    product, today = world.version.product, timezone.localdate()
    listed = report_versions(product=product, on=today)
    assert default_report_version(product=product, on=today, versions=listed) == world.version
    # Before the version's start nothing is in force: both fall back to the newest.
    before = world.version.effective_from - dt.timedelta(days=1)
    listed = report_versions(product=product, on=before)
    assert not any(v.in_force for v in listed)
    assert default_report_version(product=product, on=before, versions=listed) \
        == default_report_version(product=product, on=before) == listed[0]


@pytest.mark.parametrize("count", [5, 30])
def test_query_count_does_not_grow_with_applicants(world, count, django_assert_max_num_queries):
    for index in range(count):
        _applicant(world, tax_credit_rating="AB"[index % 2])
    viewer = world.user("lead.north")
    viewer.roles  # noqa: B018 (roles are cached per request; load them outside the count)

    # Branch subtree, conditions, the product's version ids, enterprises, controller edges,
    # applications; the loan book's outcome source adds one (no loans here: see
    # apps/loans/tests/test_performance.py).
    with django_assert_max_num_queries(7):
        report = threshold_report(viewer=viewer, version=world.version,
                                  on=timezone.localdate())
    assert report.enterprises == count


def test_registered_sources_feed_the_report_and_its_bad_rate(world, monkeypatch):
    good = _applicant(world)
    monkeypatch.setattr(report_module, "_performance_sources",
                        [lambda ids: {good.pk: {"loans": 4, "bad": 1}}])

    report = _report(world)

    assert report.performance_available
    assert report.admitted.bad_rate == Decimal("25.0")
    assert report.excluded.bad_rate is None  # no loans: no rate, not 0 %
