"""Exemption cases (尽职免责): transitions, four-eyes, appeals never worsen, deadline sweep,
batch decisions, the frozen pack and written dissent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.approvals.models import ReviewOpinion, Vote, VoteChoice
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.loans.states import LoanState
from apps.oversight import exemption_services as svc
from apps.oversight.exemption_models import AppealWouldWorsen, ExemptionCase, ExemptionPerson
from apps.oversight.exemption_pack import pack_digest
from apps.oversight.exemption_states import TIER_SEVERITY, Tier
from apps.oversight.exemption_states import ExemptionCaseState as S
from apps.oversight.tests.exemption_factories import committee_member, make_loan

pytestmark = pytest.mark.django_db

TRANSITIONS = ["start_review", "decide", "appeal", "decide_appeal", "close"]
ALLOWED = {
    (S.OPENED, "start_review"), (S.UNDER_REVIEW, "decide"), (S.DECIDED, "appeal"),
    (S.APPEALED, "appeal"), (S.APPEALED, "decide_appeal"), (S.DECIDED, "close"),
    (S.APPEAL_DECIDED, "close"),
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition_table(state, name):
    case = ExemptionCase(state=state)
    assert can_proceed(getattr(case, name), check_conditions=False) == ((state, name) in ALLOWED)


def _all_full(case, tier=Tier.FULL):
    return {p.pk: {"tier": tier, "reason": "Duties done as the rules required",
                   "relied_on": "pack"} for p in case.people.all()}


def _decided(world, *, tier=Tier.REDUCED, dpd=120, principal=Decimal("500000")):
    chair = committee_member(world)
    loan = make_loan(world, dpd=dpd, principal=principal)
    case = svc.exemption_case_open(loan_id=loan.pk, incident="non_performing", actor=chair)
    svc.exemption_case_start_review(case_id=case.pk, actor=chair)
    return svc.exemption_case_decide(case_id=case.pk, actor=chair, summary="Committee met",
                                     tiers=_all_full(case, tier)), chair


def test_open_is_idempotent_and_records_deadline_and_versions(world):
    loan = make_loan(world, dpd=120)
    chair = committee_member(world)
    first = svc.exemption_case_open(loan_id=loan.pk, incident="non_performing", actor=chair)
    again = svc.exemption_case_open(loan_id=loan.pk, incident="written_off", actor=chair)
    assert first.pk == again.pk and ExemptionCase.objects.filter(loan=loan).count() == 1
    assert first.deadline_at == first.opened_at + dt.timedelta(days=365)
    assert first.policy_versions["exemption.review_deadline_days"] == 1
    assert first.rule_set_version == 1 and first.pack["rule_set"]["version"] == 1
    usernames = set(first.people.values_list("user__username", flat=True))
    assert {"am.north", "ops.north", "ops.south", "postloan.north"} <= usernames
    assert AuditEvent.objects.filter(action="exemption_case.opened",
                                     application_id=loan.application_id,
                                     branch_id=loan.branch_id).count() == 1


def test_only_committee_members_not_involved_open_cases(world):
    loan = make_loan(world, dpd=120, officer="postloan.north")
    with pytest.raises(PermissionDenied):
        svc.exemption_case_open(loan_id=loan.pk, incident="non_performing",
                                actor=world.user("auditor.north"))
    involved = world.user("postloan.north")
    involved.groups.add(committee_member(world).groups.get())
    with pytest.raises(PermissionDenied):
        svc.exemption_case_open(loan_id=loan.pk, incident="non_performing",
                                actor=world.user("postloan.north"))


def test_nobody_decides_their_own_case(world):
    loan = make_loan(world, dpd=120)
    chair = committee_member(world)
    case = svc.exemption_case_open(loan_id=loan.pk, incident="non_performing", actor=chair)
    officer = world.user("postloan.north")  # the loan's post-loan officer, under review
    officer.groups.add(chair.groups.get())
    officer = world.user("postloan.north")
    with pytest.raises(PermissionDenied):
        svc.exemption_case_start_review(case_id=case.pk, actor=officer)
    svc.exemption_case_start_review(case_id=case.pk, actor=chair)
    with pytest.raises(PermissionDenied):
        svc.exemption_case_decide(case_id=case.pk, actor=officer, summary="Self-judged",
                                  tiers=_all_full(case))


def test_appeal_four_eyes_and_full_flow(world):
    case, chair = _decided(world, tier=Tier.NONE)
    officer = world.user("postloan.north")
    with pytest.raises(PermissionDenied):  # only people under review appeal
        svc.exemption_case_appeal(case_id=case.pk, actor=chair, grounds="Not mine to appeal")
    svc.exemption_case_appeal(case_id=case.pk, actor=officer,
                              grounds="The borrower's fraud was undetectable")
    with pytest.raises(TransitionConflict):
        svc.exemption_case_appeal(case_id=case.pk, actor=officer, grounds="Again, twice")
    line = case.people.get(user=officer)
    with pytest.raises(PermissionDenied):  # the decider may not hear the appeal
        svc.exemption_case_decide_appeal(case_id=case.pk, actor=chair, summary="Self review",
                                         outcomes={line.pk: {"outcome": Tier.FULL,
                                                             "reason": "Lighter now"}})
    reviewer = committee_member(world, "exempt.appeal")
    with pytest.raises(ValidationError) as missing:
        svc.exemption_case_decide_appeal(case_id=case.pk, actor=reviewer, summary="Heard it",
                                         outcomes={})
    assert f"outcome_{line.pk}" in missing.value.message_dict
    case = svc.exemption_case_decide_appeal(
        case_id=case.pk, actor=reviewer, summary="Heard the appeal",
        outcomes={line.pk: {"outcome": Tier.REDUCED, "reason": "Fraud was well hidden"}})
    assert case.state == S.APPEAL_DECIDED and case.appeal_decided_by == reviewer
    line.refresh_from_db()
    assert (line.tier, line.appeal_outcome, line.final_tier) == (Tier.NONE, Tier.REDUCED,
                                                                 Tier.REDUCED)
    case = svc.exemption_case_close(case_id=case.pk, actor=reviewer)
    assert case.state == S.CLOSED
    actions = list(AuditEvent.objects.filter(subject_type="oversight.exemptioncase",
                                             subject_id=str(case.pk))
                   .values_list("action", flat=True).order_by("seq"))
    assert actions == ["exemption_case.opened", "exemption_case.review_started",
                       "exemption_case.decided", "exemption_case.appealed",
                       "exemption_case.appeal_decided", "exemption_case.closed"]


def test_service_refuses_a_worsening_appeal_and_the_database_too(world):
    case, _chair = _decided(world, tier=Tier.REDUCED)
    officer = world.user("postloan.north")
    svc.exemption_case_appeal(case_id=case.pk, actor=officer, grounds="Please reconsider")
    line = case.people.get(user=officer)
    reviewer = committee_member(world, "exempt.appeal")
    with pytest.raises(ValidationError) as refused:
        svc.exemption_case_decide_appeal(case_id=case.pk, actor=reviewer, summary="Worse now",
                                         outcomes={line.pk: {"outcome": Tier.NONE,
                                                             "reason": "Harsher after all"}})
    assert "never make it more severe" in str(refused.value.message_dict[f"outcome_{line.pk}"])
    case.refresh_from_db()
    assert case.state == S.APPEALED
    with pytest.raises(IntegrityError), transaction.atomic():
        ExemptionPerson.objects.filter(pk=line.pk).update(appeal_outcome=Tier.NONE)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(original=st.sampled_from(list(Tier)), outcome=st.sampled_from(list(Tier)))
def test_appeal_outcome_never_more_severe_than_the_decision(original, outcome):
    """Any decided tier, any proposed appeal outcome: the transition either refuses or lands
    on an outcome no more severe than the original."""
    case = ExemptionCase(state=S.APPEALED)
    try:
        case.decide_appeal(by=None, summary="appeal", outcomes={1: (original, outcome)})
    except AppealWouldWorsen:
        assert TIER_SEVERITY[outcome] > TIER_SEVERITY[original]
        assert case.state == S.APPEALED
    else:
        assert TIER_SEVERITY[outcome] <= TIER_SEVERITY[original]
        assert case.state == S.APPEAL_DECIDED


def test_sweep_opens_once_flags_overdue_and_closes_after_the_window(world):
    floor_loan = make_loan(world, dpd=90)       # at the floor: not yet non-performing
    bad_loan = make_loan(world, dpd=91)
    written_off = make_loan(world, dpd=0, state=LoanState.WRITTEN_OFF)
    counts = svc.exemption_cases_sweep()
    assert counts["opened"] == 2
    assert svc.exemption_cases_sweep()["opened"] == 0
    assert not ExemptionCase.objects.filter(loan=floor_loan).exists()
    assert ExemptionCase.objects.get(loan=written_off).incident == "written_off"
    case = ExemptionCase.objects.get(loan=bad_loan)
    assert case.opened_by is None and case.incident == "non_performing"

    later = timezone.now() + dt.timedelta(days=366)
    assert svc.exemption_cases_sweep(now=later)["overdue"] == 2
    assert svc.exemption_cases_sweep(now=later)["overdue"] == 0
    assert AuditEvent.objects.filter(action="exemption_case.overdue").count() == 2
    case.refresh_from_db()
    assert case.overdue_at == later and case.is_overdue

    decided, chair = _decided(world)
    with pytest.raises(TransitionConflict):  # appeals still possible
        svc.exemption_case_close(case_id=decided.pk, actor=chair)
    ExemptionCase.objects.filter(pk=decided.pk).update(
        appeal_window_ends_at=timezone.now() - dt.timedelta(minutes=1))
    assert svc.exemption_cases_sweep()["closed"] == 1
    decided.refresh_from_db()
    assert decided.state == S.CLOSED


def test_batch_decision_for_small_loans_keeps_each_pack(world):
    chair = committee_member(world)
    cases = []
    for _ in range(3):
        loan = make_loan(world, dpd=100, principal=Decimal("300000"))
        case = svc.exemption_case_open(loan_id=loan.pk, incident="non_performing", actor=chair)
        svc.exemption_case_start_review(case_id=case.pk, actor=chair)
        cases.append(case)
    big = make_loan(world, dpd=100, principal=Decimal("3000000"))
    big_case = svc.exemption_case_open(loan_id=big.pk, incident="non_performing", actor=chair)
    svc.exemption_case_start_review(case_id=big_case.pk, actor=chair)
    with pytest.raises(ValidationError) as refused:
        svc.exemption_batch_decide(case_ids=[c.pk for c in cases] + [big_case.pk],
                                   actor=chair, tier=Tier.FULL, reason="Small, attributable")
    assert "batch limit" in str(refused.value.message_dict["case_ids"])
    assert not ExemptionCase.objects.filter(state=S.DECIDED).exists()

    batch = svc.exemption_batch_decide(case_ids=[c.pk for c in cases], actor=chair,
                                       tier=Tier.FULL, reason="Small, clearly attributable")
    assert batch.cases.count() == 3 and batch.policy_version == 1
    digests = set()
    for case in cases:
        case.refresh_from_db()
        assert case.state == S.DECIDED and case.batch == batch
        assert set(case.people.values_list("tier", flat=True)) == {Tier.FULL}
        assert pack_digest(case.pack) == case.pack_sha256
        digests.add(case.pack_sha256)
    assert len(digests) == 3  # each loan keeps its own pack


def test_pack_is_frozen_with_hash_and_written_dissent_lands_in_it(world, disbursed):
    route = disbursed.approval_routes.first()
    reviewer, member = world.user("reviewer.north"), world.user("committee.north")
    ReviewOpinion.objects.create(application=disbursed, reviewer=reviewer,
                                 outcome=ReviewOpinion.Outcome.RETURN,
                                 comment="Cash flow does not cover the instalments")
    Vote.objects.create(step=route.steps.first(), route=route, member=member,
                        choice=VoteChoice.REJECT, opinion="I vote against: thin margins",
                        cast_at=timezone.now(), content={}, signature="0" * 64)
    loan = make_loan(world, disbursed, dpd=200)
    case = svc.exemption_case_open(loan_id=loan.pk, incident="non_performing",
                                   actor=committee_member(world))
    assert pack_digest(case.pack) == case.pack_sha256
    assert {line["code"] for line in case.pack["duties"]} >= {"two-officer-visit", "sign-offs"}
    dissenters = {p["username"]: p for p in case.pack["people"] if p["dissent"]}
    assert set(dissenters) == {"reviewer.north", "committee.north"}
    assert dissenters["committee.north"]["dissent"][0]["kind"] == "committee_vote_against"
    assert dissenters["reviewer.north"]["dissent"][0]["text"].startswith("Cash flow")
    for username in dissenters:
        person = case.people.get(user__username=username)
        assert person.proposed_tier == Tier.FULL and person.dissent

    frozen = dict(case.pack)
    svc.exemption_case_start_review(case_id=case.pk, actor=committee_member(world))
    ReviewOpinion.objects.filter(application=disbursed).update(comment="Rewritten later")
    case.refresh_from_db()
    assert case.pack == frozen and pack_digest(case.pack) == case.pack_sha256
