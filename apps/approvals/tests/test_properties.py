"""A hypothesis state machine: random people try random acts on a file in approval. Whatever
happens, "approved" implies a complete route of distinct, authorised signers, none of whom
prepared, investigated or reviewed the file, and nothing bypasses the route."""

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.applications import services as application_services
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.approvals.models import ApprovalRoute, CommitteeMember, StepKind, Vote
from apps.approvals.seed import BRANCH_APPROVER, BRANCH_COMMITTEE, BRANCH_HEAD
from apps.approvals.services import (
    committee_vote_cast,
    committee_vote_close,
    delegation_grant,
    review_send_to_approval,
    step_sign,
)
from apps.approvals.services.committee import committee_tally
from apps.approvals.sod import involved_user_ids
from apps.approvals.states import RouteState, StepState
from apps.approvals.tests.factories import PASSWORD, give_role, under_review
from apps.core.exceptions import DomainError
from apps.investigations.models import ChecklistTemplate, Investigation
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.states import InvestigationState

REFUSALS = (PermissionDenied, ValidationError, DomainError)
K = Decimal("1000")
# Amount bands pick the route: one approver, two levels, a committee, approver + committee.
ROUTES = [(Decimal("0"), 100 * K, [BRANCH_APPROVER]),
          (100 * K, 300 * K, [BRANCH_APPROVER, BRANCH_HEAD]),
          (300 * K, 450 * K, [BRANCH_COMMITTEE]),
          (450 * K, None, [BRANCH_HEAD, BRANCH_COMMITTEE])]
AMOUNTS = [50 * K, 200 * K, 400 * K, 480 * K]
ACTORS = ["am.north", "assistant.north", "reviewer.north", "approver.north", "head.north",
          "approver.hq", "approver.south", "lead.north", "committee.north", "committee2.north",
          "committee3.north", "committee4.north", "root"]
VOTERS = ["committee.north", "committee2.north", "committee3.north", "committee4.north",
          "am.north", "reviewer.north", "head.north"]


def _publish_band_matrix():
    from apps.approvals.seed import seed_approval_staff
    from apps.approvals.services import (
        authority_matrix_draft,
        authority_matrix_publish,
        authority_rule_add,
    )
    from apps.products.models import CreditProduct

    seed_approval_staff()
    grades = ["ungraded", "A", "B", "C", "D", "E"]
    matrix = authority_matrix_draft(name="bands", grades=grades)
    for product in CreditProduct.objects.all():
        for exception in (False, True):
            for above, up_to, steps in ROUTES:
                authority_rule_add(matrix_id=matrix.pk, product=product, amount_above=above,
                                   amount_up_to=up_to, grades=grades,
                                   policy_exception=exception, steps=steps)
    authority_matrix_publish(matrix_id=matrix.pk, effective_from=timezone.localdate())


@pytest.fixture
def cast(world):
    _publish_band_matrix()
    seed_builtin_templates()
    User.objects.create_superuser("root", "root@x.test", PASSWORD)
    # Makers who also hold approving roles: the people segregation of duties is about.
    for username in ("am.north", "assistant.north", "reviewer.north"):
        user = give_role(world.user(username), Role.APPROVER, 9)
        give_role(user, Role.COMMITTEE_MEMBER)
        committee = CommitteeMember.objects.filter(user__username="committee.north").first()
        CommitteeMember.objects.create(committee=committee.committee, user=user)
    return world


class ApprovalMachine(RuleBasedStateMachine):
    world = None
    outcomes: dict = {}

    def __init__(self):
        super().__init__()
        self.application = None

    def _user(self, username):
        return User.objects.get(username=username)  # fresh: roles are cached per instance

    @initialize(amount=st.sampled_from(AMOUNTS))
    def first_file(self, amount):
        self.open_file(amount)

    @rule(amount=st.sampled_from(AMOUNTS))
    def open_file(self, amount):
        """A new file under review (investigated by am.north and assistant.north) sent on."""
        if self.application is not None and self.application.state == S.IN_APPROVAL:
            return
        application = under_review(self.world)
        Investigation.objects.create(
            application=application, template=ChecklistTemplate.objects.first(),
            lead_officer=self._user("am.north"), assisting_officer=self._user("assistant.north"),
            state=InvestigationState.ACCEPTED)
        review_send_to_approval(application_id=application.pk,
                                actor=self._user("reviewer.north"), risks="x",
                                proposed_amount=amount)
        self.application = Application.objects.get(pk=application.pk)

    def _waiting(self):
        if self.application is None:
            return None
        route = self.application.approval_routes.order_by("-round").first()
        return route.steps.filter(state=StepState.WAITING).first()

    @rule(actor=st.sampled_from(ACTORS),
          decision=st.sampled_from(["approve", "approve", "approve", "reject", "return"]),
          good_password=st.sampled_from([True, True, True, False]))
    def sign(self, actor, decision, good_password):
        step = self._waiting()
        if step is None or step.kind != StepKind.INDIVIDUAL:
            return
        with contextlib.suppress(REFUSALS):
            step_sign(step_id=step.pk, actor=self._user(actor),
                      password=PASSWORD if good_password else "wrong", decision=decision,
                      reason="r")

    @rule(pick=st.integers(min_value=0, max_value=10),
          decision=st.sampled_from(["approve", "approve", "approve", "reject", "return"]))
    def sign_as_someone_eligible(self, pick, decision):
        """Progress: someone the system itself lists as eligible signs or votes."""
        from apps.approvals.lockout import locked_until
        from apps.approvals.services.committee import eligible_member_ids
        from apps.approvals.services.notifications import step_candidates

        step = self._waiting()
        if step is None:
            return
        if step.kind == StepKind.COMMITTEE:
            voted = set(step.votes.values_list("member_id", flat=True))
            members = sorted(pk for pk in eligible_member_ids(step) - voted
                             if locked_until(User.objects.get(pk=pk)) is None)
            if members:
                committee_vote_cast(step_id=step.pk, actor=User.objects.get(
                    pk=members[pick % len(members)]), password=PASSWORD,
                    choice="reject" if decision == "reject" else "approve", opinion="why")
            return
        # Someone locked out by the `sign` rule's wrong passwords waits out the window.
        candidates = sorted((c for c in step_candidates(step) if locked_until(c) is None),
                            key=lambda u: u.pk)
        if candidates:  # must succeed: the candidate list and the service agree
            step_sign(step_id=step.pk, actor=candidates[pick % len(candidates)],
                      password=PASSWORD, decision=decision, reason="r")

    @rule(actor=st.sampled_from(VOTERS),
          choice=st.sampled_from(["approve", "approve", "approve", "reject"]))
    def vote(self, actor, choice):
        step = self._waiting()
        if step is None or step.kind != StepKind.COMMITTEE:
            return
        with contextlib.suppress(REFUSALS):
            committee_vote_cast(step_id=step.pk, actor=self._user(actor), password=PASSWORD,
                                choice=choice, opinion="because")

    @rule(actor=st.sampled_from(ACTORS))
    def close(self, actor):
        step = self._waiting()
        if step is None or step.kind != StepKind.COMMITTEE:
            return
        with contextlib.suppress(REFUSALS):
            committee_vote_close(step_id=step.pk, actor=self._user(actor))

    @rule(delegator=st.sampled_from(["head.north", "reviewer.north", "approver.hq"]),
          delegate=st.sampled_from(["approver.north", "am.north", "approver.south"]))
    def delegate(self, delegator, delegate):
        with contextlib.suppress(REFUSALS):
            delegation_grant(delegator=self._user(delegator), delegate=self._user(delegate),
                             starts_at=timezone.now() - dt.timedelta(minutes=1),
                             ends_at=timezone.now() + dt.timedelta(days=1), reason="leave",
                             actor=self._user(delegator))

    @rule(actor=st.sampled_from(ACTORS))
    def bypass(self, actor):
        """Approving through the application service directly never works."""
        if self.application is None:
            return
        with pytest.raises(REFUSALS):
            application_services.application_approve(application_id=self.application.pk,
                                                      actor=self._user(actor), reason="bypass")

    @invariant()
    def approved_implies_a_complete_clean_route(self):
        if self.application is None:
            return
        application = Application.objects.get(pk=self.application.pk)
        self.application = application
        self.outcomes[application.pk] = application.state
        route = ApprovalRoute.objects.filter(application=application).order_by("-round").first()
        involved = involved_user_ids(application)
        participants = []
        for step in route.steps.all():
            if step.kind == StepKind.INDIVIDUAL and hasattr(step, "sign_off"):
                sign_off = step.sign_off
                participants.append({sign_off.signer_id, sign_off.on_behalf_of_id} - {None})
                assert sign_off.authority_level >= step.level
                assert sign_off.signer_id not in involved
                assert sign_off.on_behalf_of_id not in involved
            voters = set(Vote.objects.filter(step=step).values_list("member_id", flat=True))
            if voters:
                participants.append(voters)
                assert not voters & involved
        everyone = [p for group in participants for p in group]
        assert len(everyone) == len(set(everyone)), "someone took part at two levels"
        if application.state == S.APPROVED:
            assert route.state == RouteState.APPROVED
            for step in route.steps.all():
                assert step.state == StepState.APPROVED
                if step.kind == StepKind.INDIVIDUAL:
                    assert step.sign_off.decision == "approve"
                else:
                    assert committee_tally(step).passes
        else:
            assert route.state != RouteState.APPROVED


def test_approved_implies_a_clean_complete_route(cast):
    ApprovalMachine.world, ApprovalMachine.outcomes = cast, {}
    run_state_machine_as_test(ApprovalMachine, settings=settings(
        max_examples=30, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
    # Not vacuous: the random walks reached approvals and refusals both.
    reached = set(ApprovalMachine.outcomes.values())
    assert S.APPROVED in reached and S.IN_APPROVAL in reached, reached
