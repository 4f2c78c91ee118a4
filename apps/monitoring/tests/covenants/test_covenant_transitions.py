"""Both state machines: every state × transition against the allowed table, then who may
make each move (four-eyes, branch scope) and 403 before 409."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import can_proceed

from apps.core.exceptions import TransitionConflict
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import AnnualReview, CovenantCheck
from apps.monitoring.covenant_states import AnnualReviewState, CovenantCheckState

from .conftest import submit_check

CHECK_ALLOWED = {
    "mark_due": {"scheduled"},
    "mark_overdue": {"scheduled", "due"},
    "submit": {"scheduled", "due", "overdue"},
    "accept": {"submitted"},
    "confirm_breach": {"submitted"},
}
REVIEW_ALLOWED = {
    "mark_due": {"scheduled"},
    "mark_overdue": {"scheduled", "due"},
    "submit": {"scheduled", "due", "overdue"},
    "accept": {"submitted"},
    "return_for_correction": {"submitted"},
}


@pytest.mark.parametrize("model, states, allowed", [
    (CovenantCheck, CovenantCheckState, CHECK_ALLOWED),
    (AnnualReview, AnnualReviewState, REVIEW_ALLOWED)])
def test_transition_table(model, states, allowed):
    for state in states.values:
        item = model()
        item.__dict__["state"] = state  # behind the protected descriptor, never saved
        for name, sources in allowed.items():
            assert can_proceed(getattr(item, name), check_conditions=False) == (
                state in sources), (model.__name__, state, name)


def test_state_cannot_be_written():
    with pytest.raises(AttributeError):
        CovenantCheck().state = "accepted"


def test_check_walk_and_refusals(world, scheduled):
    loan, check, _review = scheduled
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    # Another branch's officer: not theirs (403), even though the state would allow it.
    with pytest.raises(PermissionDenied):
        submit_check(check, world.user("postloan.south"))
    # A decision before a submission: the lead may decide, but not now (409).
    with pytest.raises(TransitionConflict):
        services.covenant_check_accept(check_id=check.pk, actor=lead)
    with pytest.raises(ValidationError) as missing:
        services.covenant_check_submit(check_id=check.pk, actor=officer, result="complied",
                                       note=" ")
    assert "note" in missing.value.message_dict
    with pytest.raises(ValidationError):
        services.covenant_check_submit(check_id=check.pk, actor=officer, result="maybe",
                                       note="x")
    submitted = submit_check(check, officer)
    assert submitted.state == "submitted" and submitted.done_on_time is True
    # Four-eyes: the submitter may not decide, nor may a post-loan officer (403 before 409).
    with pytest.raises(PermissionDenied):
        services.covenant_check_accept(check_id=check.pk, actor=officer)
    with pytest.raises(PermissionDenied):
        services.covenant_check_accept(check_id=check.pk, actor=world.user("lead.south"))
    accepted = services.covenant_check_accept(check_id=check.pk, actor=lead, note="fine")
    assert accepted.state == "accepted" and accepted.result == "complied"
    assert accepted.decided_by == lead
    # Decided: the officer is still refused with 403 (not theirs), the lead with 409.
    with pytest.raises(PermissionDenied):
        services.covenant_check_breach(check_id=check.pk, actor=officer, note="late")
    with pytest.raises(TransitionConflict):
        services.covenant_check_breach(check_id=check.pk, actor=lead, note="late")
    # The next check of the covenant follows the decided one.
    assert CovenantCheck.objects.filter(covenant=check.covenant, state="scheduled").count() == 1


def test_breach_needs_a_reason(world, scheduled):
    _loan, check, _review = scheduled
    submit_check(check, world.user("postloan.north"), result="breached")
    with pytest.raises(ValidationError):
        services.covenant_check_breach(check_id=check.pk, actor=world.user("reviewer.north"),
                                       note="")


def test_documents_must_be_of_the_loans_file(world, scheduled):
    _loan, check, _review = scheduled
    with pytest.raises(ValidationError) as refused:
        services.covenant_check_submit(check_id=check.pk, actor=world.user("postloan.north"),
                                       result="complied", note="ok", document_ids=[999999])
    assert "document_ids" in refused.value.message_dict


def test_review_walk(world, scheduled):
    _loan, _check, review = scheduled
    officer, reviewer = world.user("postloan.north"), world.user("reviewer.north")
    with pytest.raises(PermissionDenied):
        services.annual_review_submit(review_id=review.pk, actor=world.user("am.north"),
                                      outcome="satisfactory", note="x")
    services.annual_review_submit(review_id=review.pk, actor=officer, outcome="concerns",
                                  note="Sales down 20% year on year")
    with pytest.raises(ValidationError):
        services.annual_review_return(review_id=review.pk, actor=reviewer, note="")
    returned = services.annual_review_return(review_id=review.pk, actor=reviewer,
                                             note="Attach the latest statements")
    assert returned.state == "due" and returned.submitted_at is None
    services.annual_review_submit(review_id=review.pk, actor=officer, outcome="concerns",
                                  note="Statements attached")
    with pytest.raises(PermissionDenied):
        services.annual_review_accept(review_id=review.pk, actor=officer)
    done = services.annual_review_accept(review_id=review.pk, actor=reviewer)
    assert done.state == "accepted" and done.outcome == "concerns"
