"""The independent review: a structured opinion, validated, then on to approval (route fixed)
or back for rework; nobody sends a file to approval without one."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.applications import services as application_services
from apps.applications.services import ApplicationBlocked
from apps.applications.states import ApplicationState as S
from apps.approvals.models import ReviewOpinion
from apps.approvals.services import (
    policy_exception_declare,
    review_return,
    review_send_to_approval,
)
from apps.approvals.states import StepState
from apps.approvals.tests.factories import approvals_ready, under_review
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict


@pytest.fixture
def file(world):
    approvals_ready([{"kind": "individual", "level": 1, "label": "Approver",
                      "deadline_hours": 24, "remind_after_hours": 12}])
    return under_review(world)


def test_the_opinion_sends_the_file_on_and_fixes_the_route(world, file):
    opinion = review_send_to_approval(
        application_id=file.pk, actor=world.user("reviewer.north"), risks="One big buyer.",
        mitigations="Receivables pledged.", proposed_amount=Decimal("400000"),
        proposed_term_months=12, proposed_rate=Decimal("4.200"), collateral="None",
        conditions=["Controller guarantee signed"])
    file.refresh_from_db()
    assert file.state == S.IN_APPROVAL and file.reviewed_by.username == "reviewer.north"
    route = opinion.route
    assert route.amount_basis == Decimal("400000") and route.grade == "ungraded"
    assert route.steps.get().state == StepState.WAITING
    assert list(route.conditions.values_list("text", flat=True)) == [
        "Controller guarantee signed"]
    actions = list(AuditEvent.objects.values_list("action", flat=True).order_by("seq"))
    assert actions[-4:] == ["review.opinion_recorded", "application.sent_to_approval",
                            "approval_route.resolved", "approval_step.opened"]


@pytest.mark.parametrize(("fields", "errors"), [
    ({"risks": " "}, {"risks"}),
    ({"risks": "x", "proposed_amount": Decimal("900000")}, {"proposed_amount"}),
    ({"risks": "x", "proposed_rate": Decimal("9.9"), "proposed_term_months": 99},
     {"proposed_rate", "proposed_term_months"}),
    ({"risks": "x", "conditions": ["ok", " "]}, {"conditions"}),
])
def test_bad_opinions_are_refused_with_nothing_written(world, file, fields, errors):
    with pytest.raises(ValidationError) as exc:
        review_send_to_approval(application_id=file.pk, actor=world.user("reviewer.north"),
                                **fields)
    assert set(exc.value.message_dict) == errors
    file.refresh_from_db()
    assert file.state == S.UNDER_REVIEW and not ReviewOpinion.objects.exists()


@pytest.mark.parametrize("username", ["am.north", "approver.north", "reviewer.south"])
def test_only_an_independent_reviewer_of_the_branch_reviews(world, file, username):
    with pytest.raises(PermissionDenied):
        review_send_to_approval(application_id=file.pk, actor=world.user(username), risks="x")


def test_return_for_rework_with_comments(world, file):
    with pytest.raises(ValidationError):
        review_return(application_id=file.pk, actor=world.user("reviewer.north"), comment=" ")
    review_return(application_id=file.pk, actor=world.user("reviewer.north"),
                  comment="Add 12 months of bank statements.")
    file.refresh_from_db()
    assert file.state == S.RETURNED
    with pytest.raises(TransitionConflict):
        review_return(application_id=file.pk, actor=world.user("reviewer.north"), comment="x")


def test_sending_to_approval_without_an_opinion_is_blocked(world, file):
    with pytest.raises(ApplicationBlocked):
        application_services.application_send_to_approval(
            application_id=file.pk, actor=world.user("reviewer.north"), comment="no opinion")


def test_exceptions_need_a_rule_and_a_reason(world, file):
    with pytest.raises(ValidationError) as exc:
        policy_exception_declare(application_id=file.pk, actor=world.user("reviewer.north"),
                                 rule="", reason="")
    assert set(exc.value.message_dict) == {"rule", "reason"}
