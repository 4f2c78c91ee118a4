"""§6.1 overlay: an R3 red flag (or R3 cross-check finding) in the accepted investigation
removes delegated authority; the delegator signs in person."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.approvals.seed import BRANCH_HEAD
from apps.approvals.services import delegation_grant, step_sign
from apps.approvals.sod import signing_refusal
from apps.approvals.states import StepState
from apps.approvals.tests.factories import PASSWORD, in_approval
from apps.investigations.models import Investigation
from apps.investigations.states import InvestigationState

R3_FLAG = {"code": "B7", "severity": "R3", "message": {"en": "Dishonest debtor", "zh": ""}}
R2_FLAG = {"code": "B2", "severity": "R2", "message": {"en": "M1+ history", "zh": ""}}


def _file_with(world, **findings):
    application, route = in_approval(world, steps=[BRANCH_HEAD], walk=True)
    investigation = Investigation.objects.get(application=application)
    assert investigation.state == InvestigationState.ACCEPTED
    Investigation.objects.filter(pk=investigation.pk).update(
        red_flags=findings.get("red_flags", []),
        cross_check_findings=findings.get("cross_check_findings", []))
    head, deputy = world.user("head.north"), world.user("approver.north")
    delegation_grant(delegator=head, delegate=deputy, starts_at=timezone.now(),
                     ends_at=timezone.now() + dt.timedelta(days=5), reason="Annual leave",
                     actor=head)
    return route.steps.get(), head, deputy


def _sign(step, user):
    return step_sign(step_id=step.pk, actor=user, password=PASSWORD, decision="approve",
                     reason="Cash flow is sound.")


@pytest.mark.parametrize("where", ["red_flags", "cross_check_findings"])
def test_an_r3_finding_refuses_the_delegate_and_the_delegator_signs_in_person(world, where):
    step, head, deputy = _file_with(world, **{where: [R2_FLAG, R3_FLAG]})
    with pytest.raises(PermissionDenied, match="R3 red flag"):
        _sign(step, deputy)
    refusal, _authority = signing_refusal(step, deputy)
    assert "must sign in person" in refusal and head.display_name in refusal
    step.refresh_from_db()
    assert step.state == StepState.WAITING
    sign_off = _sign(step, head)
    assert sign_off.delegation is None and sign_off.signer == head


def test_without_r3_the_delegation_still_lends_authority(world):
    step, head, deputy = _file_with(world, red_flags=[R2_FLAG])
    sign_off = _sign(step, deputy)
    assert sign_off.on_behalf_of == head and sign_off.delegation is not None
