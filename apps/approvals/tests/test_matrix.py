"""The authority matrix: validation names gaps and overlaps, resolution picks one row,
declared policy exceptions force the exception route, publishing is four-eyes."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.approvals.matrix import matrix_problems, rule_for
from apps.approvals.seed import BRANCH_APPROVER, BRANCH_COMMITTEE, GRADES, seed_matrix
from apps.approvals.services import (
    authority_matrix_draft,
    authority_matrix_publish,
    authority_rule_add,
)
from apps.approvals.states import MatrixState
from apps.approvals.tests.factories import in_approval
from apps.products.models import CreditProduct
from apps.products.seed import seed_products

M = Decimal("1000000")


@pytest.fixture
def product(db):
    seed_products()
    return CreditProduct.objects.get(code="tax-credit-loan")


def _draft(product, bands, grades=("A",), exception_bands=None):
    matrix = authority_matrix_draft(name="t", grades=list(grades))
    for above, up_to in bands:
        authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=above,
                           amount_up_to=up_to, grades=list(grades), policy_exception=False,
                           steps=[BRANCH_APPROVER])
    for above, up_to in exception_bands if exception_bands is not None else [(0, None)]:
        authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=above,
                           amount_up_to=up_to, grades=list(grades), policy_exception=True,
                           steps=[BRANCH_COMMITTEE])
    return matrix


def test_a_complete_matrix_has_no_problems(product):
    matrix = _draft(product, [(0, M), (M, None)])
    assert matrix_problems(matrix, products=[product]) == []


def test_a_gap_between_bands_is_named(product):
    matrix = _draft(product, [(0, M), (2 * M, None)])
    problems = matrix_problems(matrix, products=[product])
    assert len(problems) == 1
    assert "Gap" in problems[0] and "1,000,000" in problems[0] and "2,000,000" in problems[0]


def test_an_open_top_is_a_gap(product):
    problems = matrix_problems(_draft(product, [(0, M)]), products=[product])
    assert problems == [p for p in problems if "above 1,000,000" in p] and problems


def test_an_overlap_names_both_rows(product):
    matrix = _draft(product, [(0, 2 * M), (M, None)])
    problems = matrix_problems(matrix, products=[product])
    assert len(problems) == 1
    assert "Overlap" in problems[0] and "rows 1 and 2" in problems[0]


def test_a_missing_exception_route_is_a_gap(product):
    matrix = _draft(product, [(0, None)], exception_bands=[])
    problems = matrix_problems(matrix, products=[product])
    assert any("policy exception" in p for p in problems)


def test_a_grade_without_rows_is_a_gap(product):
    matrix = _draft(product, [(0, None)])
    matrix.grades = ["A", "B"]
    problems = matrix_problems(matrix, products=[product])
    assert any("grade B" in p for p in problems) and not any("grade A" in p for p in problems)


def test_malformed_steps_are_refused_when_added(product):
    matrix = authority_matrix_draft(name="t", grades=["A"])
    with pytest.raises(ValidationError) as exc:
        authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=0,
                           amount_up_to=None, grades=["A"], policy_exception=False,
                           steps=[{"kind": "individual", "level": 0, "label": "x",
                                   "deadline_hours": 4, "remind_after_hours": 8}])
    messages = exc.value.message_dict["steps"]
    assert any("authority level" in m for m in messages)
    assert any("reminder" in m for m in messages)


def test_publishing_refuses_gaps_and_publishing_ones_own_draft(world, product):
    drafter, publisher = world.user("admin.north"), world.user("admin.south")
    matrix = authority_matrix_draft(name="t", grades=["A"], actor=drafter)
    with pytest.raises(PermissionDenied):
        authority_matrix_publish(matrix_id=matrix.pk, effective_from=timezone.localdate(),
                                 actor=drafter)
    with pytest.raises(ValidationError) as exc:
        authority_matrix_publish(matrix_id=matrix.pk, effective_from=timezone.localdate(),
                                 actor=publisher)
    assert any("Gap" in p for p in exc.value.message_dict["rules"])
    matrix.refresh_from_db()
    assert matrix.state == MatrixState.DRAFT


def test_publishing_retires_the_previous_version(world):
    first = seed_matrix()
    matrix = authority_matrix_draft(name="v2", grades=["A"])
    for product in CreditProduct.objects.all():
        for exception in (False, True):
            authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=0,
                               amount_up_to=None, grades=["A"], policy_exception=exception,
                               steps=[BRANCH_APPROVER])
    authority_matrix_publish(matrix_id=matrix.pk, effective_from=timezone.localdate(),
                             actor=world.user("admin.south"))
    first.refresh_from_db()
    assert first.state == MatrixState.RETIRED and first.effective_to == timezone.localdate()


def test_the_seed_matrix_covers_every_seeded_product(world):
    matrix = seed_matrix()
    assert matrix.state == MatrixState.PUBLISHED
    assert matrix_problems(matrix) == []
    assert matrix.rules.count() == 4 * 4 * 4
    assert set(matrix.grades) == set(GRADES)
    assert all(rule.source_citation for rule in matrix.rules.all())


@pytest.mark.parametrize(("amount", "grade", "exception", "kinds"), [
    (M, "A", False, [("individual", 1)]),
    (M + 1, "A", False, [("individual", 2)]),
    (3 * M + 1, "B", False, [("committee", None)]),
    (M, "ungraded", False, [("individual", 1)]),
    (2 * M, "C", False, [("committee", None)]),
    (5 * M, "C", False, [("committee", None), ("individual", 3)]),
    (M, "D", False, [("committee", None)]),
    (M, "A", True, [("committee", None)]),
    (11 * M, "A", True, [("committee", None), ("individual", 4)]),
])
def test_resolution_picks_the_one_row(world, amount, grade, exception, kinds):
    matrix = seed_matrix()
    product = CreditProduct.objects.get(code="property-operating-loan")
    rule = rule_for(matrix, product_id=product.pk, amount=Decimal(amount), grade=grade,
                    policy_exception=exception)
    assert [(s["kind"], s.get("level")) for s in rule.steps] == kinds


def test_a_declared_exception_forces_the_exception_route(world):
    application, route = in_approval(world, steps=None, exceptions=[
        {"rule": "Score recommendation: decline", "actual_value": "grade D",
         "reason": "Strategic customer with a new contract."}])
    assert route.policy_exception is True and route.rule.policy_exception is True
    assert [s.kind for s in route.steps.all()] == ["committee"]
    assert route.policy_exceptions.count() == 1


def test_the_route_is_frozen_against_later_matrix_versions(world):
    application, route = in_approval(world)
    steps_before = list(route.steps.values_list("kind", "level"))
    matrix = authority_matrix_draft(name="v2", grades=["ungraded"])
    for product in CreditProduct.objects.all():
        for exception in (False, True):
            authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=0,
                               amount_up_to=None, grades=["ungraded"],
                               policy_exception=exception, steps=[BRANCH_COMMITTEE])
    authority_matrix_publish(matrix_id=matrix.pk, effective_from=timezone.localdate())
    route.refresh_from_db()
    assert list(route.steps.values_list("kind", "level")) == steps_before
    assert route.matrix.version == 1
