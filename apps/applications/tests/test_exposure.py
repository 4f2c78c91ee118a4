import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from apps.applications.exposure import exposure_of, group_exposure, group_exposure_total
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World
from apps.parties.models import Relationship, RelationshipKind
from apps.products.conditions import ConditionValueError, normalise_value
from apps.products.eligibility import evaluate
from apps.products.facts import FACTS

pytestmark = pytest.mark.django_db


def test_exposure_sums_booked_approved_and_pipeline_for_the_group():
    world = World()
    booked = world.in_state(S.DISBURSED)  # approved at the full 500,000 requested
    sister = world.enterprise()
    Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                from_enterprise=booked.enterprise, to_enterprise=sister)
    world.draft(enterprise=sister, amount_requested=Decimal("200000"))
    exposure = group_exposure(enterprise_id=booked.enterprise_id)
    assert exposure.enterprise_ids == {booked.enterprise_id, sister.pk}
    assert (exposure.existing, exposure.approved, exposure.requested) == (
        Decimal("500000"), 0, Decimal("200000"))
    assert exposure.total == Decimal("700000")
    # the scoring worker's compiled form of the same query, for both members of the group
    assert group_exposure_total(enterprise_id=booked.enterprise_id) == Decimal("700000")
    assert group_exposure_total(enterprise_id=sister.pk) == Decimal("700000")
    assert group_exposure_total(enterprise_id=world.enterprise().pk) == 0


def test_closed_files_do_not_count():
    world = World()
    rejected = world.in_state(S.REJECTED)
    assert exposure_of({rejected.enterprise_id}).total == 0


def test_group_exposure_is_a_fact_entry_conditions_can_use():
    world = World()
    assert "group_exposure" in FACTS
    assert normalise_value("group_exposure", "lte", "10000000") == "10000000"
    with pytest.raises(ConditionValueError):
        normalise_value("group_exposure", "in", ["A"])
    app = world.draft(amount_requested=Decimal("800000"))
    from apps.products.models import EntryCondition

    cap = EntryCondition(version=world.version, code="cap", fact="group_exposure",
                         operator="lte", value="500000", reason_en="Cap", reason_zh="上限")
    result = evaluate(version=world.version, enterprise=app.enterprise, on=app.created_at.date(),
                      conditions=[cap])
    assert not result.eligible and Decimal(result.failures[0].actual) == Decimal("800000")


def _book(application, *, amount, loans):
    """A signed contract on the file and its loans (principal, outstanding, state), written
    directly: the loans app's own services are tested in apps.loans."""
    from apps.loans.models import Disbursement, Loan, LoanContract

    contract = LoanContract.objects.create(
        application=application, contract_number=f"C-{application.pk}",
        branch=application.branch, enterprise=application.enterprise, amount=amount,
        annual_rate=Decimal("4.350"), term_months=12, repayment_method="equal_principal",
        collateral_type="none", created_by=application.account_manager)
    for number, (principal, outstanding, state) in enumerate(loans, start=1):
        drawdown = Disbursement.objects.create(
            contract=contract, amount=principal, value_date=dt.date(2026, 1, 5),
            borrower_account="6222000011112222", payment_mode="independent",
            requested_by=application.account_manager)
        Loan.objects.create(
            loan_number=f"L-{application.pk}-{number}", contract=contract, disbursement=drawdown,
            application=application, enterprise=application.enterprise,
            branch=application.branch, product_version=application.product_version,
            officer=application.account_manager, state=state, principal=principal,
            annual_rate=Decimal("4.350"), repayment_method="equal_principal",
            payment_mode="independent", value_date=dt.date(2026, 1, 5),
            maturity_date=dt.date(2027, 1, 5), outstanding_principal=outstanding)
    return contract


def test_outstanding_balance_replaces_the_approved_amount_once_loans_exist():
    world = World()
    booked = world.in_state(S.DISBURSED)  # approved at 500,000
    _book(booked, amount=Decimal("500000"), loans=[
        (Decimal("200000"), Decimal("120000"), "active"),
        (Decimal("100000"), Decimal("0"), "settled"),
    ])
    exposure = exposure_of({booked.enterprise_id})
    # Outstanding of open loans; the undrawn 200,000 of the signed contract stays committed.
    assert exposure.existing == Decimal("120000")
    assert exposure.approved == Decimal("200000")
    assert exposure.total == Decimal("320000")
    assert group_exposure_total(enterprise_id=booked.enterprise_id) == Decimal("320000")


def test_a_closed_contract_leaves_only_what_is_still_outstanding():
    from apps.loans.models import LoanContract

    world = World()
    booked = world.in_state(S.DISBURSED)
    contract = _book(booked, amount=Decimal("500000"),
                     loans=[(Decimal("300000"), Decimal("50000"), "restructured")])
    LoanContract.objects.filter(pk=contract.pk).update(state="closed")
    exposure = exposure_of({booked.enterprise_id})
    assert (exposure.existing, exposure.approved) == (Decimal("50000"), 0)


def test_state_codes_match_the_loans_app():
    from apps.applications import exposure
    from apps.loans.states import OPEN_LOAN_STATES, ContractState

    assert set(exposure.OPEN_LOAN_STATES) == {str(s) for s in OPEN_LOAN_STATES}
    assert exposure.CONTRACT_SIGNED == ContractState.SIGNED


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the plan is PostgreSQL's; SQLite has no planner statistics")
def test_the_group_exposure_reads_the_group_by_index_not_every_application():
    """Issue #23 (2): with the group as one OR-ed filter over all enterprises, PostgreSQL
    estimated it at a share of every enterprise and summed the group by scanning every
    application (68 ms at 20,000 files, in every score). The group is a UNION of index
    lookups now; its applications are read through the enterprise index."""
    from django.test.utils import CaptureQueriesContext

    from apps.applications.models import Application
    from apps.parties.models import Enterprise
    from apps.parties.validators import uscc_check_char

    world = World()
    file = world.draft(amount_requested=Decimal("100000"))
    enterprise = Enterprise.objects.get(pk=file.enterprise_id)
    copied = {f.attname: getattr(enterprise, f.attname) for f in Enterprise._meta.concrete_fields
              if f.attname not in ("id", "uscc", "name")}
    others = Enterprise.objects.bulk_create(
        [Enterprise(**copied, name=f"Book {n}", uscc=f"91330107{n:09d}"
                    + uscc_check_char(f"91330107{n:09d}")) for n in range(2000)])
    fields = {f.attname: getattr(file, f.attname) for f in Application._meta.concrete_fields
              if f.attname not in ("id", "reference", "enterprise_id")}
    Application.objects.bulk_create(
        [Application(**fields, enterprise_id=others[n % len(others)].pk, reference=f"BK{n:07d}")
         for n in range(12000)], batch_size=4000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE applications_application")
        cursor.execute("ANALYZE parties_enterprise")
    with CaptureQueriesContext(connection) as queries:
        assert group_exposure_total(enterprise_id=file.enterprise_id) == Decimal("100000")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on applications_application" not in plan, plan


def test_loan_sums_of_a_group_with_several_files():
    """Outstanding of open loans and the undrawn part of signed contracts, summed over every
    file of the group (each file's loans counted once however many there are)."""
    from apps.loans.models import LoanContract

    world = World()
    first, second, closed = (world.in_state(S.DISBURSED) for _ in range(3))
    _book(first, amount=Decimal("500000"), loans=[
        (Decimal("200000"), Decimal("120000"), "active"),
        (Decimal("100000"), Decimal("0"), "settled")])
    _book(second, amount=Decimal("400000"), loans=[
        (Decimal("150000"), Decimal("150000"), "pending"),
        (Decimal("50000"), Decimal("10000"), "restructured")])
    contract = _book(closed, amount=Decimal("900000"), loans=[
        (Decimal("300000"), Decimal("70000"), "active")])
    LoanContract.objects.filter(pk=contract.pk).update(state="closed")
    exposure = exposure_of({first.enterprise_id, second.enterprise_id, closed.enterprise_id})
    assert exposure.existing == Decimal("120000") + Decimal("160000") + Decimal("70000")
    # undrawn: 900,000 signed less 500,000 drawn on the signed contracts (the closed one's
    # draw is not netted against them)
    assert exposure.approved == Decimal("400000")
    assert exposure.total == Decimal("750000")


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the plan is PostgreSQL's")
def test_the_loans_are_summed_once_for_the_group_not_once_per_file():
    """The loan sums are uncorrelated subqueries (InitPlans, run once per statement), not a
    correlated subquery per file of the group (SubPlans): bench_scoring_worker's group of a
    thousand files spent most of each score's database time in those."""
    import json

    from django.test.utils import CaptureQueriesContext

    world = World()
    file = world.in_state(S.DISBURSED)
    _book(file, amount=Decimal("500000"), loans=[(Decimal("200000"), Decimal("1"), "active")])
    with CaptureQueriesContext(connection) as queries:
        group_exposure_total(enterprise_id=file.enterprise_id)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + queries.captured_queries[-1]["sql"])
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = []

    def walk(node, under):
        if node.get("Parent Relationship") in ("InitPlan", "SubPlan"):
            under = node["Parent Relationship"]
        if node.get("Relation Name") == "loans_loan":
            found.append(under)
        for child in node.get("Plans", ()):
            walk(child, under)

    walk(plan[0]["Plan"], None)
    assert found and set(found) == {"InitPlan"}, found
