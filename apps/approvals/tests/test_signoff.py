"""Signing a step: segregation of duties for every role mix, authority levels, the password,
the signature, delegation, and the application moves that follow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.applications import services as application_services
from apps.applications.services import ApplicationBlocked
from apps.applications.states import ApplicationState as S
from apps.approvals.models import SignOff
from apps.approvals.seed import BRANCH_APPROVER, BRANCH_HEAD, seed_approval_staff
from apps.approvals.services import WrongPassword, delegation_grant, step_sign
from apps.approvals.signing import verify
from apps.approvals.states import ConditionState, RouteState, StepState
from apps.approvals.tests.factories import PASSWORD, approvals_ready, give_role, in_approval
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict

TWO_LEVELS = [BRANCH_APPROVER, BRANCH_HEAD]


def _sign(step, user, decision="approve", **extra):
    return step_sign(step_id=step.pk, actor=user, password=PASSWORD, decision=decision,
                     reason=extra.pop("reason", "Cash flow is sound."), **extra)


@pytest.fixture
def people(world):
    """Everyone who might try, some given an approver role on top of their own (the maker who
    is also an approver is the case segregation of duties exists for)."""
    seed_approval_staff()
    u = world.user
    superuser = User.objects.create_superuser("root", "root@x.test", PASSWORD)
    return {
        "account manager (+approver L9)": give_role(u("am.north"), Role.APPROVER, 9),
        "investigator (+approver L9)": give_role(u("assistant.north"), Role.APPROVER, 9),
        "reviewer (+approver L9)": give_role(u("reviewer.north"), Role.APPROVER, 9),
        "team lead": u("lead.north"), "committee member": u("committee.north"),
        "post-loan officer": u("postloan.north"), "other branch approver": u("approver.south"),
        "superuser without roles": superuser,
        "approver L1": u("approver.north"), "branch head L2": u("head.north"),
        "head-office approver L3": u("approver.hq"),
    }


MAY_SIGN = {1: {"approver L1", "branch head L2", "head-office approver L3"},
            2: {"branch head L2", "head-office approver L3"}}


@pytest.mark.parametrize("first_signer", ["approver L1", "head-office approver L3"])
def test_every_role_mix_against_every_step(world, people, first_signer):
    application, route = in_approval(world, steps=TWO_LEVELS, walk=True)
    steps = list(route.steps.order_by("position"))
    signed = set()
    for step, signer in ((steps[0], first_signer),
                         (steps[1], "branch head L2" if first_signer != "branch head L2"
                          else "head-office approver L3")):
        allowed = MAY_SIGN[step.position] - signed
        for name, person in people.items():
            if name in allowed:
                continue
            with pytest.raises(PermissionDenied):
                _sign(step, person)
            step.refresh_from_db()
            assert step.state == StepState.WAITING, name
        assert signer in allowed
        _sign(step, people[signer])
        signed.add(signer)
    application.refresh_from_db()
    route.refresh_from_db()
    assert application.state == S.APPROVED and route.state == RouteState.APPROVED
    signers = list(route.sign_offs.values_list("signer__username", flat=True))
    assert len(signers) == len(set(signers)) == 2
    assert application.decided_by.username == signers[-1]


def test_nobody_signs_two_levels(world):
    application, route = in_approval(world, steps=TWO_LEVELS)
    first, second = route.steps.order_by("position")
    head = world.user("head.north")
    _sign(first, head)
    with pytest.raises(PermissionDenied, match="already signed"):
        _sign(second, head)


def test_a_decided_step_cannot_be_signed_again(world):
    application, route = in_approval(world)
    step = route.steps.get()
    _sign(step, world.user("approver.north"))
    with pytest.raises((TransitionConflict, PermissionDenied)):
        _sign(step, world.user("approver.hq"))
    assert SignOff.objects.filter(step=step).count() == 1


def test_a_wrong_password_is_refused_and_audited(world):
    application, route = in_approval(world)
    step = route.steps.get()
    approver = world.user("approver.north")
    with pytest.raises(WrongPassword):
        step_sign(step_id=step.pk, actor=approver, password="guess", decision="approve",
                  reason="ok")
    step.refresh_from_db()
    assert step.state == StepState.WAITING
    event = AuditEvent.objects.filter(action="approval.password_refused").get()
    assert event.actor_id == approver.pk and event.payload["step"] == step.pk


def test_the_signature_covers_the_decision_content(world):
    application, route = in_approval(world)
    sign_off = _sign(route.steps.get(), world.user("approver.north"),
                     amount=Decimal("400000"), rate=Decimal("4.100"),
                     conditions=["Insurance assigned to the bank"])
    assert verify(sign_off.content, sign_off.signature)
    tampered = {**sign_off.content, "amount": "500000.00"}
    assert not verify(tampered, sign_off.signature)
    assert sign_off.authority_level == 1 and sign_off.content["step"] == 1
    event = AuditEvent.objects.filter(action="approval.signed").get()
    assert event.payload["signature"] == sign_off.signature


def test_approval_for_less_with_extra_conditions(world):
    application, route = in_approval(world, conditions=["Controller guarantee signed"])
    _sign(route.steps.get(), world.user("approver.north"), amount=Decimal("300000"),
          rate=Decimal("4.000"), conditions=["Sales proceeds through our account"])
    application.refresh_from_db()
    assert application.amount_approved == Decimal("300000")
    assert application.amount_requested == Decimal("500000")
    assert application.rate_approved == Decimal("4.000")
    texts = set(route.conditions.values_list("text", flat=True))
    assert texts == {"Controller guarantee signed", "Sales proceeds through our account"}


def test_a_later_level_cannot_raise_the_amount(world):
    application, route = in_approval(world, steps=TWO_LEVELS)
    first, second = route.steps.order_by("position")
    _sign(first, world.user("approver.north"), amount=Decimal("300000"))
    with pytest.raises(ValidationError) as exc:
        _sign(second, world.user("head.north"), amount=Decimal("400000"))
    assert "amount" in exc.value.message_dict


@pytest.mark.parametrize(("decision", "state", "route_state"), [
    ("reject", S.REJECTED, RouteState.REJECTED), ("return", S.RETURNED, RouteState.RETURNED)])
def test_reject_and_return_end_the_route(world, decision, state, route_state):
    application, route = in_approval(world, steps=TWO_LEVELS)
    first, second = route.steps.order_by("position")
    _sign(first, world.user("approver.north"), decision=decision, reason="Revenue unproven.")
    application.refresh_from_db()
    route.refresh_from_db()
    second.refresh_from_db()
    assert application.state == state and route.state == route_state
    assert second.state == StepState.SKIPPED


def test_a_returned_file_gets_a_fresh_route_next_round(world):
    application, route = in_approval(world, walk=True)
    _sign(route.steps.get(), world.user("approver.north"), decision="return",
          reason="Add bank statements.")
    am = world.user("am.north")
    application_services.application_resume_investigation(application_id=application.pk,
                                                          actor=am)
    from apps.demo.lifecycle import _investigate

    _investigate(application, am)
    application_services.application_send_to_review(application_id=application.pk, actor=am)
    from apps.approvals.services import review_send_to_approval

    opinion = review_send_to_approval(application_id=application.pk,
                                      actor=world.user("reviewer.north"), risks="Fixed.")
    assert opinion.route.round == 2 and opinion.route.state == RouteState.IN_PROGRESS
    _sign(opinion.route.steps.get(), world.user("approver.north"))  # a new round, a new route
    application.refresh_from_db()
    assert application.state == S.APPROVED


@pytest.mark.parametrize("move", ["approve", "reject", "return"])
def test_the_application_services_cannot_bypass_the_route(world, move):
    application, route = in_approval(world)
    approver = world.user("approver.north")
    call = {"approve": lambda: application_services.application_approve(
                application_id=application.pk, actor=approver, reason="bypass"),
            "reject": lambda: application_services.application_reject(
                application_id=application.pk, actor=approver, reason="bypass"),
            "return": lambda: application_services.application_return_for_rework(
                application_id=application.pk, actor=approver, comment="bypass")}[move]
    with pytest.raises(ApplicationBlocked):
        call()
    application.refresh_from_db()
    assert application.state == S.IN_APPROVAL


def test_the_api_approve_command_is_blocked_too(world, api_as):
    application, route = in_approval(world)
    response = api_as("approver.north").post(
        f"/api/v1/applications/{application.pk}/approve/", {"reason": "bypass"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "application_blocked"


def test_a_delegate_signs_with_the_delegators_authority(world):
    application, route = in_approval(world, steps=[BRANCH_HEAD])
    head, deputy = world.user("head.north"), world.user("approver.north")
    step = route.steps.get()
    with pytest.raises(PermissionDenied, match="authority level"):
        _sign(step, deputy)
    delegation = delegation_grant(delegator=head, delegate=deputy, starts_at=timezone.now(),
                                  ends_at=timezone.now() + dt.timedelta(days=5),
                                  reason="Annual leave", actor=head)
    sign_off = _sign(step, deputy)
    assert sign_off.on_behalf_of == head and sign_off.delegation == delegation
    assert sign_off.authority_level == 2 and sign_off.content["on_behalf_of"] == head.pk
    assert AuditEvent.objects.filter(action="delegation.granted").count() == 1


def test_an_expired_or_revoked_delegation_lends_nothing(world):
    application, route = in_approval(world, steps=[BRANCH_HEAD])
    head, deputy = world.user("head.north"), world.user("approver.north")
    from apps.approvals.services import delegation_revoke

    live = delegation_grant(delegator=head, delegate=deputy, starts_at=timezone.now(),
                            ends_at=timezone.now() + dt.timedelta(days=1), reason="Leave",
                            actor=head)
    delegation_revoke(delegation_id=live.pk, actor=head)
    future = timezone.now() + dt.timedelta(days=3)
    delegation_grant(delegator=head, delegate=deputy, starts_at=future,
                     ends_at=future + dt.timedelta(days=1), reason="Later leave", actor=head)
    with pytest.raises(PermissionDenied, match="authority level"):
        _sign(route.steps.get(), deputy)


def test_a_delegation_cannot_launder_a_conflict(world):
    """The delegator reviewed the file: their authority cannot sign it through a deputy."""
    approvals_ready([BRANCH_HEAD])
    reviewer = give_role(world.user("reviewer.north"), Role.APPROVER, 2)
    application, route = in_approval(world, steps=[BRANCH_HEAD])
    deputy = world.user("approver.north")
    delegation_grant(delegator=reviewer, delegate=deputy, starts_at=timezone.now(),
                     ends_at=timezone.now() + dt.timedelta(days=1), reason="Leave",
                     actor=reviewer)
    with pytest.raises(PermissionDenied):
        _sign(route.steps.get(), deputy)


def test_delegation_rules(world):
    seed_approval_staff()
    head, deputy, am = world.user("head.north"), world.user("approver.north"), \
        world.user("am.north")
    now = timezone.now()
    with pytest.raises(PermissionDenied):
        delegation_grant(delegator=head, delegate=deputy, starts_at=now,
                         ends_at=now + dt.timedelta(days=1), reason="x", actor=deputy)
    with pytest.raises(ValidationError) as exc:
        delegation_grant(delegator=head, delegate=am, starts_at=now, ends_at=now,
                         reason="", actor=head)
    assert set(exc.value.message_dict) == {"delegate", "ends_at", "reason"}


def test_conditions_precedent_gate_the_contract(world):
    application, route = in_approval(world, conditions=["Mortgage registered"])
    _sign(route.steps.get(), world.user("approver.north"))
    postloan = world.user("postloan.north")
    with pytest.raises(ApplicationBlocked) as exc:
        application_services.application_contract(application_id=application.pk,
                                                  actor=postloan)
    assert "condition" in exc.value.fields["reasons"][0]
    from apps.approvals.services import condition_satisfy

    condition = route.conditions.get()
    with pytest.raises(PermissionDenied):  # the account manager is not the disbursement unit
        condition_satisfy(condition_id=condition.pk, actor=world.user("am.north"), note="x")
    with pytest.raises(ValidationError):
        condition_satisfy(condition_id=condition.pk, actor=postloan, note=" ")
    condition_satisfy(condition_id=condition.pk, actor=postloan,
                      note="Registration certificate No. 123 seen")
    condition.refresh_from_db()
    assert condition.state == ConditionState.SATISFIED and condition.satisfied_by == postloan
    application_services.application_contract(application_id=application.pk, actor=postloan)
    application.refresh_from_db()
    assert application.state == S.CONTRACTED


def test_a_decision_against_the_score_is_reported_to_scoring(world, monkeypatch):
    """Grade from the latest score picks the matrix row; approving against a "decline"
    recommendation calls scoring's override record, with the reason."""
    from types import SimpleNamespace

    from apps.approvals.services import decisions, routing
    from apps.scoring import services as scoring_services

    score = SimpleNamespace(grade="D", recommendation="decline", probability=0.3, score=510,
                            reasons=[], model_version="t")
    monkeypatch.setattr(routing, "latest_score", lambda application_id: score)
    monkeypatch.setattr(decisions, "latest_score", lambda application_id: score)
    calls = []
    monkeypatch.setattr(scoring_services, "score_override_record",
                        lambda **kwargs: calls.append(kwargs))
    application, route = in_approval(world, steps=None)
    assert route.grade == "D" and route.steps.get().kind == "committee"
    for member in ("committee2.north", "committee3.north", "committee4.north"):
        from apps.approvals.services import committee_vote_cast

        committee_vote_cast(step_id=route.steps.get().pk, actor=world.user(member),
                            password=PASSWORD, choice="approve")
    assert [(c["decision"], c["application_id"]) for c in calls] == [
        ("approve", application.pk)]
