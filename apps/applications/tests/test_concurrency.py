"""Two people act on one file at the same moment: exactly one wins, and the trail agrees."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from apps.applications import services
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World
from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.core.exceptions import TransitionConflict

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TRIALS = 15


def _race(first, second):
    barrier = threading.Barrier(2)
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

    threads = [threading.Thread(target=run, args=("first", first)),
               threading.Thread(target=run, args=("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_approve_and_reject_race_has_one_winner(on_postgresql):
    """In approval a file is decided by signing its route step (apps.approvals)."""
    from apps.approvals.services import step_sign
    from apps.demo.seed import DEMO_PASSWORD

    world = World()
    for _ in range(TRIALS):
        app = world.in_state(S.IN_APPROVAL)
        step_id = app.approval_routes.get().steps.get().pk

        def sign(username, decision, step_id=step_id):
            return step_sign(step_id=step_id, actor=world.user(username),
                             password=DEMO_PASSWORD, decision=decision, reason=decision)
        outcomes = _race(lambda: sign("approver.north", "approve"),
                         lambda: sign("approver.hq", "reject"))
        assert sorted(outcomes.values()) == ["TransitionConflict", "won"], outcomes
        final = Application.objects.get(pk=app.pk)
        decisions = list(AuditEvent.objects.filter(
            subject_type="applications.application", subject_id=str(app.pk),
            action__in=["application.approved", "application.rejected"]))
        assert len(decisions) == 1
        assert decisions[0].payload["to"] == final.state
    assert audit_chain_verify().ok


def test_double_submit_submits_once(on_postgresql):
    world = World()
    am = world.user("am.north")
    for _ in range(TRIALS):
        app = world.draft()
        outcomes = _race(lambda app=app: services.application_submit(application_id=app.pk,
                                                                     actor=am),
                         lambda app=app: services.application_submit(application_id=app.pk,
                                                                     actor=am))
        assert sorted(outcomes.values()) == ["TransitionConflict", "won"], outcomes
        assert AuditEvent.objects.filter(action="application.submitted",
                                         subject_id=str(app.pk)).count() == 1
