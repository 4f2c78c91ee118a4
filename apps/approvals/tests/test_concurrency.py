"""Several approvers sign the same step at the same moment, many times over: exactly one
signature counts each time, and the audit trail says the same (PostgreSQL, real locks)."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World
from apps.approvals.models import SignOff, Vote
from apps.approvals.seed import BRANCH_COMMITTEE
from apps.approvals.services import committee_vote_cast, step_sign
from apps.approvals.tests.factories import PASSWORD, in_approval
from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.core.exceptions import TransitionConflict

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TRIALS = 10
SIGNERS = ["approver.north", "head.north", "approver.hq", "cro.hq"]


def _race(actions: dict) -> dict:
    barrier = threading.Barrier(len(actions))
    outcomes = {}

    def run(name, action):
        try:
            barrier.wait()
            action()
            outcomes[name] = "won"
        except (TransitionConflict, PermissionDenied) as exc:
            outcomes[name] = type(exc).__name__
        except Exception as exc:  # anything else is a bug, reported by the assertion
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_many_approvers_one_signature(on_postgresql):
    world = World()
    for trial in range(TRIALS):
        application, route = in_approval(world)
        step = route.steps.get()
        decisions = ["approve", "reject", "return", "approve"]
        outcomes = _race({
            username: (lambda u=username, d=decisions[(i + trial) % 4], s=step.pk: step_sign(
                step_id=s, actor=world.user(u), password=PASSWORD, decision=d,
                reason=f"{d} by {u}"))
            for i, username in enumerate(SIGNERS)})
        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        assert all(o in ("won", "TransitionConflict", "PermissionDenied")
                   for o in outcomes.values()), outcomes
        sign_off = SignOff.objects.get(step=step)
        assert sign_off.signer.username == winners[0]
        signed = AuditEvent.objects.filter(action="approval.signed", subject_id=str(step.pk))
        assert signed.count() == 1 and signed.get().payload["signer"] == sign_off.signer_id
        final = Application.objects.get(pk=application.pk)
        expected = {"approve": S.APPROVED, "reject": S.REJECTED, "return": S.RETURNED}
        assert final.state == expected[sign_off.decision]
        moves = AuditEvent.objects.filter(subject_type="applications.application",
                                          subject_id=str(application.pk),
                                          action__in=["application.approved",
                                                      "application.rejected",
                                                      "application.returned"])
        assert moves.count() == 1 and moves.get().payload["to"] == final.state
    assert audit_chain_verify().ok


def test_a_committee_voting_at_once_closes_once(on_postgresql):
    world = World()
    members = ["committee.north", "committee2.north", "committee3.north", "committee4.north"]
    for _ in range(3):
        application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
        step = route.steps.get()
        outcomes = _race({m: (lambda m=m, s=step.pk: committee_vote_cast(
            step_id=s, actor=world.user(m), password=PASSWORD, choice="approve"))
            for m in members})
        won = sum(1 for o in outcomes.values() if o == "won")
        assert won >= 3, outcomes  # the vote closes at 3 of 4 (two thirds of all)
        assert AuditEvent.objects.filter(action="committee.vote_closed",
                                         subject_id=str(step.pk)).count() == 1
        assert Vote.objects.filter(step=step).count() == won
        assert Application.objects.get(pk=application.pk).state == S.APPROVED
    assert audit_chain_verify().ok
