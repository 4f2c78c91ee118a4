"""Issue 16: a committee vote and a refused signing password belong to their application's
trail (and its exports), not only to the step or the user."""

import pytest

from apps.approvals.seed import BRANCH_COMMITTEE
from apps.approvals.services import committee_vote_cast
from apps.approvals.services.signoff import WrongPassword, password_confirm
from apps.approvals.tests.factories import PASSWORD, in_approval
from apps.audit.models import AuditEvent


@pytest.fixture
def committee_step(world):
    application, route = in_approval(world, steps=[BRANCH_COMMITTEE])
    return application, route.steps.get()


def _scope(event):
    return event.application_id, event.branch_id, event.enterprise_id


def test_a_vote_carries_its_application_and_branch(world, committee_step):
    application, step = committee_step
    committee_vote_cast(step_id=step.pk, actor=world.user("committee.north"),
                        password=PASSWORD, choice="approve", opinion="")
    event = AuditEvent.objects.get(action="committee.vote_cast")
    assert _scope(event) == (application.pk, application.branch_id, application.enterprise_id)


def test_a_refused_password_carries_the_application_it_was_for(world, committee_step):
    application, step = committee_step
    with pytest.raises(WrongPassword):
        password_confirm(actor=world.user("committee.north"), password="guess", step_id=step.pk)
    event = AuditEvent.objects.get(action="approval.password_refused")
    assert _scope(event) == (application.pk, application.branch_id, application.enterprise_id)
    assert event.subject_id == str(world.user("committee.north").pk)  # still counted per user


def test_step_events_find_their_application_through_the_route(world, committee_step):
    application, step = committee_step
    opened = AuditEvent.objects.filter(action="approval_step.opened", subject_id=str(step.pk))
    assert opened.exists()
    assert {e.application_id for e in opened} == {application.pk}
