"""Check-out, time per section, validation rules at submission, reopen on return, sampling
for re-verification and scoring on acceptance."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import can_proceed

from apps.applications import services as app_services
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.core.task_names import TaskName
from apps.investigations import workflow
from apps.investigations.controls import policies
from apps.investigations.controls.reverification import (
    officer_reverification_outcomes,
    reverification_complete,
    reverification_draw,
)
from apps.investigations.controls.timing import section_findings, site_visit_findings
from apps.investigations.models import (
    Investigation,
    PolicyValue,
    ReVerification,
    SectionTiming,
    SiteCheckIn,
)
from apps.investigations.policy import PolicyResolver
from apps.investigations.states import InvestigationState, ReVerificationState

from .conftest import save, visit
from .helpers import SITE

pytestmark = pytest.mark.django_db


def test_check_out_closes_the_officers_own_check_in(started, people):
    with pytest.raises(TransitionConflict):  # nothing to close yet
        workflow.site_check_out(investigation_id=started.pk, officer=people["am"],
                                lat=SITE[0], lng=SITE[1])
    workflow.site_check_in(investigation_id=started.pk, officer=people["am"], lat=SITE[0],
                           lng=SITE[1])
    with pytest.raises(PermissionDenied):
        workflow.site_check_out(investigation_id=started.pk, officer=people["reviewer"],
                                lat=SITE[0], lng=SITE[1])
    with pytest.raises(TransitionConflict):  # the assistant has not checked in
        workflow.site_check_out(investigation_id=started.pk, officer=people["assistant"],
                                lat=SITE[0], lng=SITE[1])
    with pytest.raises(ValidationError):
        workflow.site_check_out(investigation_id=started.pk, officer=people["am"], lat="91",
                                lng=SITE[1])
    closed = workflow.site_check_out(investigation_id=started.pk, officer=people["am"],
                                     lat=SITE[0], lng=SITE[1])
    assert closed.checked_out_at >= closed.at and closed.out_lat == SITE[0]
    event = AuditEvent.objects.get(action="investigation.site_checked_out")
    assert event.payload["minutes_on_site"] == 0 and event.actor_id == people["am"].pk


def test_time_on_site_from_check_in_and_out(started, people):
    visit(started, people, minutes=20)
    found = site_visit_findings(investigation=started, check_ins=list(started.check_ins.all()),
                                site=None, policy=PolicyResolver())
    assert [f.code for f in found] == ["SITE_VISIT_SHORT", "SITE_VISIT_SHORT"]
    assert found[0].message_en == ("The lead officer spent 20 minutes on site; at least 60 are "
                                   "expected.")
    assert "control.site.min_minutes = 60" in found[0].explanation
    SiteCheckIn.objects.filter(investigation=started).update(
        at=SiteCheckIn.objects.get(investigation=started, officer=people["am"]).checked_out_at
        - dt.timedelta(minutes=61))
    assert site_visit_findings(investigation=started, check_ins=list(started.check_ins.all()),
                               site=None, policy=PolicyResolver()) == []


def test_missing_check_out_and_check_in_away_from_the_site(started, people):
    from apps.investigations.controls import site_reference

    far = (SITE[0] + Decimal("0.02"), SITE[1])  # ~2.2 km north
    workflow.site_check_in(investigation_id=started.pk, officer=people["am"], lat=far[0],
                           lng=far[1])
    check_ins = list(started.check_ins.all())
    site = site_reference(started, check_ins)
    assert site.basis == "operating_address"
    found = {f.code: f for f in site_visit_findings(investigation=started, check_ins=check_ins,
                                                     site=site, policy=PolicyResolver())}
    assert set(found) == {"SITE_NO_CHECK_OUT", "SITE_CHECK_IN_OFF_SITE"}
    assert "2,224 m from the operating address" in found["SITE_CHECK_IN_OFF_SITE"].message_en


def test_each_autosave_records_its_sections_timing(started, people):
    save(started, people["am"], "A4_AMOUNT", "500000")
    save(started, people["am"], "A4_AMOUNT", "500000")  # a retry changes nothing
    save(started, people["assistant"], "A4_PURPOSE", "working_capital")
    save(started, people["am"], "B1_OVERDUE", False)
    timing = SectionTiming.objects.get(investigation=started, section__code="A")
    assert timing.saves == 2 and timing.first_saved_at <= timing.last_saved_at
    assert SectionTiming.objects.get(investigation=started, section__code="B").saves == 1


def test_a_section_ticked_within_seconds_is_flagged(started, people):
    for code, value in [("B1_OVERDUE", False), ("B2_OVERDUE", False), ("B2_M1_COUNT", 0),
                        ("B3_INQUIRIES", 2)]:
        save(started, people["am"], code, value)
    [finding] = section_findings(investigation=started, policy=PolicyResolver())
    assert finding.code == "SECTION_RUSHED" and finding.severity == "R1"
    assert finding.message_en.startswith("Section B: 4 answers saved within 0 seconds")
    timing = SectionTiming.objects.get(investigation=started, section__code="B")
    SectionTiming.objects.filter(pk=timing.pk).update(
        first_saved_at=timing.last_saved_at - dt.timedelta(minutes=5))
    assert section_findings(investigation=started, policy=PolicyResolver()) == []


def test_validation_rules_are_enforced_at_submission(started, people):
    save(started, people["am"], "F2_TOTAL_INFLOW_12M", "100000")
    save(started, people["am"], "F2_EXCLUDED_12M", "250000")
    save(started, people["am"], "A4_AMOUNT", "0", evidence={
        "documents": {"application_form": ["f1"]}})
    with pytest.raises(workflow.InvestigationIncomplete) as exc:
        workflow.investigation_submit(investigation_id=started.pk, actor=people["am"])
    missing = exc.value.fields["missing"]
    assert "F2_EXCLUDED_12M: Excluded inflows cannot exceed total inflows." in missing
    assert "A4_AMOUNT: The amount must be above zero." in missing
    save(started, people["am"], "F2_EXCLUDED_12M", "50000", expected_version=1)
    again = workflow.investigation_missing(Investigation.objects.get(pk=started.pk))
    assert not [m for m in again if str(m).startswith("F2_EXCLUDED_12M")]


REOPEN_ALLOWED = {InvestigationState.ACCEPTED}


@pytest.mark.parametrize("state", list(InvestigationState))
def test_reopen_only_from_accepted(state):
    investigation = Investigation()
    field = investigation._meta.get_field("state")
    field.protected = False
    try:
        investigation.state = state
    finally:
        field.protected = True
    assert can_proceed(investigation.reopen, check_conditions=False) == (
        state in REOPEN_ALLOWED)


def test_returning_the_application_reopens_its_accepted_investigation(world, people):
    application = world.in_state(ApplicationState.UNDER_REVIEW)
    investigation = application.investigation
    assert investigation.state == InvestigationState.ACCEPTED
    app_services.application_return_for_rework(
        application_id=application.pk, actor=people["reviewer"],
        comment="The stock count does not match the photos.")
    investigation.refresh_from_db()
    assert investigation.state == InvestigationState.RETURNED
    assert investigation.reopen_reason == "The stock count does not match the photos."
    event = AuditEvent.objects.get(action="investigation.reopened")
    assert event.actor_id == people["reviewer"].pk and event.payload["from"] == "accepted"
    # the officers correct it and resubmit; the application waits for a new acceptance
    app_services.application_resume_investigation(application_id=application.pk,
                                                  actor=people["am"])
    answer = investigation.answers.get(item__code="A4_AMOUNT")
    save(investigation, people["am"], "A4_AMOUNT", "450000",
         evidence=answer.evidence, expected_version=answer.version)
    blocked = workflow.investigation_accepted_guard(application)
    assert blocked and "not been accepted" in blocked


def test_a_failing_hook_rolls_the_return_back(world, people):
    application = world.in_state(ApplicationState.UNDER_REVIEW)
    with mock.patch.object(Investigation, "reopen", side_effect=RuntimeError("boom")), \
            pytest.raises(RuntimeError):
        app_services.application_return_for_rework(
            application_id=application.pk, actor=people["reviewer"], comment="Redo.")
    application.refresh_from_db()
    assert application.state == ApplicationState.UNDER_REVIEW


def _rate(value: str) -> None:
    PolicyValue.objects.create(key="control.reverify.sample_rate", value=Decimal(value),
                               version=2, effective_from=dt.date(2024, 1, 2),
                               source_citation="test")


def _submitted(world, people):
    application = world.in_state(ApplicationState.SUBMITTED)
    app_services.application_start_investigation(application_id=application.pk,
                                                 actor=people["am"])
    from apps.demo.lifecycle import _investigate

    with mock.patch.object(workflow, "investigation_accept"):  # stop before acceptance
        _investigate(application, people["am"])
    return Investigation.objects.get(application=application)


def test_acceptance_samples_for_reverification_and_sends_scoring(
        world, people, django_capture_on_commit_callbacks):
    policies.seed_control_policies()
    _rate("1")  # everything sampled
    investigation = _submitted(world, people)
    with mock.patch("apps.core.queue.current_app.send_task") as send, \
            django_capture_on_commit_callbacks(execute=True):
        workflow.investigation_accept(investigation_id=investigation.pk,
                                      actor=people["reviewer"])
    send.assert_called_once()
    assert send.call_args.args == (TaskName.APPLICATION_SCORE,)
    assert send.call_args.kwargs["kwargs"] == {"application_id": investigation.application_id}
    reverification = ReVerification.objects.get(investigation=investigation)
    assert reverification.assigned_to == people["lead"]  # the branch's team lead
    assert reverification.state == ReVerificationState.OPEN
    assert reverification.draw == reverification_draw(investigation.pk)
    assert AuditEvent.objects.filter(action="reverification.opened").count() == 1

    with pytest.raises(PermissionDenied):  # only the assigned team lead
        reverification_complete(reverification_id=reverification.pk, actor=people["am"],
                                outcome="confirmed", notes="", method="revisit")
    with pytest.raises(ValidationError):
        reverification_complete(reverification_id=reverification.pk, actor=people["lead"],
                                outcome="discrepancies", notes=" ", method="callback")
    done = reverification_complete(reverification_id=reverification.pk, actor=people["lead"],
                                   outcome="discrepancies", method="callback",
                                   notes="Called the supplier: no such orders.")
    assert done.state == ReVerificationState.DONE and done.completed_at
    with pytest.raises(TransitionConflict):
        reverification_complete(reverification_id=reverification.pk, actor=people["lead"],
                                outcome="confirmed", notes="", method="revisit")
    outcomes = {row["officer_id"]: row for row in
                officer_reverification_outcomes(viewer=people["lead"])}
    for officer in (people["am"], people["assistant"]):
        assert outcomes[officer.pk] == {"officer_id": officer.pk, "open": 0, "confirmed": 0,
                                        "discrepancies": 1}
    assert officer_reverification_outcomes(viewer=world.user("lead.south")) == []


def test_rate_zero_samples_nothing_and_the_draw_is_fixed_per_investigation(world, people):
    policies.seed_control_policies()
    _rate("0")
    investigation = _submitted(world, people)
    workflow.investigation_accept(investigation_id=investigation.pk, actor=people["reviewer"])
    assert not ReVerification.objects.exists()
    event = AuditEvent.objects.get(action="investigation.accepted")
    assert event.payload["reverification"] is None
    draws = [reverification_draw(n) for n in range(1, 401)]
    assert draws == [reverification_draw(n) for n in range(1, 401)]
    assert all(Decimal(0) <= d < 1 for d in draws)
    # a 5% rate samples about 5% of files
    assert 5 <= sum(d < Decimal("0.05") for d in draws) <= 40


NARRATIVE = ("Spoke with the landlord Mr Qian and two customers at the counter; all confirm the "
             "shop opens daily and the owner settles supplier invoices within thirty days.")


def test_copied_narrative_names_the_earlier_file_and_the_candidate_set_is_bounded(
        world, people, started):
    from apps.investigations.controls.similarity import narrative_findings

    from .conftest import start_investigation

    earlier = start_investigation(world, people)
    save(earlier, people["assistant"], "B10_REPUTATION", NARRATIVE)
    newer = start_investigation(world, people)
    save(newer, people["am"], "B10_REPUTATION",
         "A different story entirely: the workshop was closed and neighbours were unsure.")
    save(started, people["am"], "B10_REPUTATION", NARRATIVE.replace("Qian", "Sun"))
    [finding] = narrative_findings(investigation=started, policy=PolicyResolver())
    assert finding.item == "B10_REPUTATION" and finding.severity == "R2"
    assert f"investigation #{earlier.pk}" in finding.message_en
    assert earlier.application.reference in finding.message_en
    assert "written by the same officer" in finding.message_en  # the assistant wrote both
    assert "≥ policy control.narrative.similarity_max = 0.80" in finding.explanation
    # Only the most recent N answers are compared (N from policy): the copy is older.
    PolicyValue.objects.create(key="control.narrative.candidates", value=Decimal("1"),
                               version=2, effective_from=dt.date(2024, 1, 2),
                               source_citation="test")
    assert narrative_findings(investigation=started, policy=PolicyResolver()) == []
