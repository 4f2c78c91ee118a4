"""Classification workflow: proposals, four-eyes, the floor wins, upgrade refusals."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.loans.models import LoanDpd
from apps.monitoring.models import LoanRiskStatus
from apps.monitoring.services.classification import (
    classification_approve,
    classification_confirm,
    classification_propose,
    classification_reject,
)


@pytest.fixture
def staff(world):
    return {name: world.user(f"{name}.north") for name in
            ("postloan", "reviewer", "approver", "lead", "am")}


def _in_force(loan, category, world, staff):
    proposal = classification_propose(loan_id=loan.pk, category=category, reason="set up",
                                      actor=staff["postloan"])
    return classification_confirm(classification_id=proposal.pk, actor=staff["reviewer"])


def test_downgrade_proposed_confirmed_in_force(world, staff):
    loan = world.loan()
    proposal = classification_propose(loan_id=loan.pk, category="special_mention",
                                      reason="Main customer lost", actor=staff["postloan"])
    assert proposal.state == "proposed" and not proposal.is_upgrade
    confirmed = classification_confirm(classification_id=proposal.pk, actor=staff["reviewer"],
                                       note="Agreed")
    assert confirmed.state == "in_force"
    assert LoanRiskStatus.objects.get(loan=loan).category == "special_mention"
    assert AuditEvent.objects.filter(action="classification.confirmed",
                                     application_id=loan.application_id).count() == 1


def test_four_eyes_proposer_cannot_confirm(world, staff):
    loan = world.loan()
    reviewer = staff["reviewer"]
    proposal = classification_propose(loan_id=loan.pk, category="substandard",
                                      reason="Business stopped", actor=reviewer)
    with pytest.raises(PermissionDenied):
        classification_confirm(classification_id=proposal.pk, actor=reviewer)
    with pytest.raises(PermissionDenied):  # an officer is not a reviewer
        classification_confirm(classification_id=proposal.pk, actor=staff["postloan"])


def test_other_branch_cannot_confirm_or_propose(world, staff):
    loan = world.loan()
    proposal = classification_propose(loan_id=loan.pk, category="substandard", reason="x",
                                      actor=staff["postloan"])
    with pytest.raises(PermissionDenied):
        classification_confirm(classification_id=proposal.pk,
                               actor=world.user("reviewer.south"))
    with pytest.raises(PermissionDenied):
        classification_propose(loan_id=loan.pk, category="loss", reason="x",
                               actor=world.user("postloan.south"))


def test_proposal_better_than_floor_is_refused(world, staff):
    loan = world.loan(dpd=95)
    with pytest.raises(ValidationError) as refused:
        classification_propose(loan_id=loan.pk, category="special_mention",
                               reason="Customer promises to pay", actor=staff["postloan"])
    message = refused.value.message_dict["category"][0]
    assert "95 days past due" in message and "Substandard" in message


def test_floor_rechecked_at_confirmation(world, staff):
    loan = world.loan()
    proposal = classification_propose(loan_id=loan.pk, category="special_mention",
                                      reason="watch", actor=staff["postloan"])
    loan.dpd_principal = 120
    loan.save(update_fields=["dpd_principal"])
    with pytest.raises(ValidationError):
        classification_confirm(classification_id=proposal.pk, actor=staff["reviewer"])


def test_worse_than_floor_always_allowed(world, staff):
    loan = world.loan(dpd=95)
    proposal = classification_propose(loan_id=loan.pk, category="loss",
                                      reason="Owner fled", actor=staff["postloan"])
    assert proposal.floor == "substandard" and proposal.category == "loss"


def test_upgrade_needs_clean_record(world, staff):
    loan = world.loan()
    _in_force(loan, "substandard", world, staff)
    LoanDpd.objects.create(loan=loan, as_of=timezone.localdate() - dt.timedelta(days=60),
                           dpd_principal=10, dpd_interest=0)
    LoanDpd.objects.create(loan=loan, as_of=timezone.localdate() - dt.timedelta(days=50),
                           dpd_principal=0, dpd_interest=0)
    with pytest.raises(ValidationError) as refused:
        classification_propose(loan_id=loan.pk, category="normal", reason="Repaid",
                               actor=staff["postloan"])
    assert "clean record" in refused.value.message_dict["category"][0]


def test_overdue_before_window_still_running_is_unclean(world, staff):
    loan = world.loan()
    _in_force(loan, "special_mention", world, staff)
    LoanDpd.objects.create(loan=loan, as_of=timezone.localdate() - dt.timedelta(days=400),
                           dpd_principal=5, dpd_interest=0)
    with pytest.raises(ValidationError):
        classification_propose(loan_id=loan.pk, category="normal", reason="x",
                               actor=staff["postloan"])


def test_upgrade_confirmed_then_approved_one_level_up(world, staff):
    loan = world.loan()
    _in_force(loan, "special_mention", world, staff)
    LoanDpd.objects.create(loan=loan, as_of=timezone.localdate() - dt.timedelta(days=300),
                           dpd_principal=3, dpd_interest=0)
    LoanDpd.objects.create(loan=loan, as_of=timezone.localdate() - dt.timedelta(days=290),
                           dpd_principal=0, dpd_interest=0)
    upgrade = classification_propose(loan_id=loan.pk, category="normal",
                                     reason="Eight months clean", actor=staff["postloan"])
    assert upgrade.is_upgrade
    upgrade = classification_confirm(classification_id=upgrade.pk, actor=staff["reviewer"])
    assert upgrade.state == "confirmed"
    assert LoanRiskStatus.objects.get(loan=loan).category == "special_mention"
    with pytest.raises(PermissionDenied):  # the reviewer is not one level up
        classification_approve(classification_id=upgrade.pk, actor=staff["reviewer"])
    upgrade = classification_approve(classification_id=upgrade.pk, actor=staff["approver"])
    assert upgrade.state == "in_force"
    assert LoanRiskStatus.objects.get(loan=loan).category == "normal"
    assert loan.classifications.filter(state="superseded").count() == 1


def test_upgrade_refused_while_floor_holds(world, staff):
    loan = world.loan(dpd=100)
    _in_force(loan, "doubtful", world, staff)
    with pytest.raises(ValidationError):
        classification_propose(loan_id=loan.pk, category="normal", reason="x",
                               actor=staff["postloan"])


def test_reject_needs_note_and_right_person(world, staff):
    loan = world.loan()
    proposal = classification_propose(loan_id=loan.pk, category="doubtful", reason="x",
                                      actor=staff["postloan"])
    with pytest.raises(ValidationError):
        classification_reject(classification_id=proposal.pk, actor=staff["reviewer"], note="")
    rejected = classification_reject(classification_id=proposal.pk, actor=staff["reviewer"],
                                     note="Not supported by the file")
    assert rejected.state == "rejected"
    with pytest.raises(TransitionConflict):
        classification_confirm(classification_id=proposal.pk, actor=staff["reviewer"])


def test_new_proposal_supersedes_open_one(world, staff):
    loan = world.loan()
    first = classification_propose(loan_id=loan.pk, category="special_mention", reason="a",
                                   actor=staff["postloan"])
    classification_propose(loan_id=loan.pk, category="substandard", reason="b",
                           actor=staff["postloan"])
    first.refresh_from_db()
    assert first.state == "superseded"
