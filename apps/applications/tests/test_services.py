from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.applications import services
from apps.applications.guards import register_guard, unregister_guard
from apps.applications.models import Application
from apps.applications.services import ApplicationBlocked
from apps.applications.states import ApplicationState as S
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict

pytestmark = pytest.mark.django_db


def _events(application):
    return list(AuditEvent.objects.filter(subject_type="applications.application",
                                          subject_id=str(application.pk))
                .order_by("seq").values_list("action", flat=True))


def test_submit_stores_the_eligibility_it_was_checked_against(world):
    app = world.in_state(S.SUBMITTED)
    assert app.eligibility["eligible"] is True
    assert app.eligibility["product"] == "tax-credit-loan"
    assert {c["code"] for c in app.eligibility["conditions"]} >= {"years-in-operation"}
    assert app.submitted_at is not None


def test_submit_with_missing_fields_lists_them_and_changes_nothing(world):
    app = world.draft(purpose="")
    with pytest.raises(ValidationError) as caught:
        services.application_submit(application_id=app.pk, actor=world.user("am.north"))
    assert list(caught.value.message_dict) == ["purpose"]
    assert Application.objects.get(pk=app.pk).state == S.DRAFT


def test_ineligible_enterprise_cannot_submit_and_hears_why(world):
    young = world.enterprise(registration_date=__import__("datetime").date.today(),
                             tax_credit_rating="D")
    app = world.draft(enterprise=young)
    with pytest.raises(ApplicationBlocked) as caught:
        services.application_submit(application_id=app.pk, actor=world.user("am.north"))
    reasons = caught.value.fields["reasons"]
    assert any(r.startswith("years-in-operation") for r in reasons)
    assert any(r.startswith("tax-rating") for r in reasons)
    stored = Application.objects.get(pk=app.pk)
    assert (stored.state, stored.eligibility) == (S.DRAFT, {})
    assert _events(app) == ["application.created"]


def test_terms_outside_the_product_are_field_errors(world):
    with pytest.raises(ValidationError) as caught:
        world.draft(amount_requested=99_000_000, term_months=60, collateral_type="property")
    assert set(caught.value.message_dict) == {"amount_requested", "term_months",
                                               "collateral_type"}
    assert not Application.objects.exists()


def test_registered_guard_blocks_leaving_investigation(world):
    """How the checklist issue will plug in 'investigation accepted'."""
    def investigation_accepted(application):
        return "The investigation has not been accepted."

    register_guard("send_to_review", investigation_accepted)
    try:
        app = world.in_state(S.INVESTIGATING)
        with pytest.raises(ApplicationBlocked) as caught:
            services.application_send_to_review(application_id=app.pk,
                                                actor=world.user("am.north"))
        assert caught.value.fields["reasons"] == ["The investigation has not been accepted."]
    finally:
        unregister_guard("send_to_review", investigation_accepted)


def test_illegal_move_is_a_conflict(world):
    app = world.in_state(S.SUBMITTED)
    with pytest.raises(TransitionConflict):
        services.application_approve(application_id=app.pk, actor=world.user("approver.north"),
                                     reason="ok")


def test_approved_amount_kept_apart_from_requested(world):
    from apps.approvals.services import step_sign
    from apps.demo.seed import DEMO_PASSWORD

    app = world.in_state(S.IN_APPROVAL)
    step_sign(step_id=app.approval_routes.get().steps.get().pk,
              actor=world.user("approver.north"), password=DEMO_PASSWORD, decision="approve",
              amount=Decimal("300000"), rate=Decimal("4.2"), reason="Lower exposure")
    approved = Application.objects.get(pk=app.pk)
    assert (approved.amount_requested, approved.amount_approved) == (500000, 300000)
    event = AuditEvent.objects.get(action="application.approved")
    assert event.payload["amount_requested"] == "500000.00"
    assert event.payload["amount_approved"] == "300000"


@pytest.mark.parametrize(("amount", "rate", "field"), [
    ("600000", "4", "amount"), ("0", "4", "amount"), ("300000", "9", "rate")])
def test_approval_outside_limits_is_refused(world, amount, rate, field):
    app = world.in_state(S.IN_APPROVAL)
    with pytest.raises(ValidationError) as caught:
        services.application_approve(application_id=app.pk, actor=world.user("approver.north"),
                                     amount=amount, rate=rate, reason="r")
    assert field in caught.value.message_dict


def test_whole_lifecycle_leaves_an_ordered_trail(world):
    app = world.in_state(S.DISBURSED)
    assert _events(app) == [
        "application.created", "application.submitted", "application.investigation_started",
        "application.sent_to_review", "review.opinion_recorded",
        "application.sent_to_approval", "application.approved",
        "application.contracted", "application.disbursed"]
    moves = AuditEvent.objects.filter(subject_type="applications.application",
                                      subject_id=str(app.pk),
                                      action__startswith="application.").exclude(
        action="application.created").order_by("seq")
    previous = S.DRAFT
    for event in moves:
        assert event.payload["from"] == previous
        previous = event.payload["to"]
    assert previous == S.DISBURSED


def test_return_and_resume_goes_back_to_investigating(world):
    app = world.in_state(S.RETURNED)
    resumed = services.application_resume_investigation(application_id=app.pk,
                                                        actor=world.user("am.north"))
    assert resumed.state == S.INVESTIGATING
    event = AuditEvent.objects.get(action="application.returned")
    assert event.payload["comment"].startswith("Add the premises lease")


def test_return_needs_a_comment(world):
    app = world.in_state(S.UNDER_REVIEW)
    with pytest.raises(ValidationError):
        services.application_return_for_rework(application_id=app.pk,
                                               actor=world.user("reviewer.north"), comment=" ")


def test_edit_records_old_and_new_values(world):
    app = world.draft()
    services.application_update(application_id=app.pk, actor=world.user("am.north"),
                                term_months=6)
    event = AuditEvent.objects.get(action="application.updated")
    assert event.payload["changes"] == {"term_months": {"old": 12, "new": 6}}


def test_submitted_application_cannot_be_edited(world):
    app = world.in_state(S.SUBMITTED)
    with pytest.raises(TransitionConflict):
        services.application_update(application_id=app.pk, actor=world.user("am.north"),
                                    term_months=6)


def test_reassignment_is_recorded(world):
    from apps.accounts.services import user_create

    other = user_create(username="am2.north", password=None, branch=world.north,
                        roles=["account_manager"])
    app = world.draft()
    with pytest.raises(PermissionDenied):
        services.application_reassign(application_id=app.pk, account_manager=other,
                                      actor=world.user("am.north"))
    services.application_reassign(application_id=app.pk, account_manager=other,
                                  actor=world.user("lead.north"))
    assert Application.objects.get(pk=app.pk).account_manager == other
    assert AuditEvent.objects.get(action="application.reassigned").payload == {
        "from": world.user("am.north").pk, "to": other.pk}


def test_expiry_sweep_is_idempotent(world):
    app = world.draft()
    assert services.application_expire(application_id=app.pk, reason="idle").state == S.EXPIRED
    assert services.application_expire(application_id=app.pk, reason="idle") is None
    assert _events(app).count("application.expired") == 1
