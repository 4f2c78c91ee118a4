"""Investigation workflow: FSM table, services' refusals, version conflicts, the gate."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django_fsm import can_proceed

from apps.accounts.roles import Role
from apps.accounts.services import user_create
from apps.applications import services as app_services
from apps.applications.guards import _guards, conflicted_user_ids
from apps.applications.services import ApplicationBlocked
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.investigations import workflow
from apps.investigations.models import Answer, Investigation, ItemComment
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.states import InvestigationState as S

pytestmark = pytest.mark.django_db

TRANSITIONS = ["start", "submit", "accept", "return_for_correction", "request_reverification"]
ALLOWED = {
    (S.ACCEPTED, "request_reverification"),  # a self-loop: the file stays accepted
    (S.ASSIGNED, "start"),
    (S.IN_PROGRESS, "submit"),
    (S.RETURNED, "submit"),
    (S.SUBMITTED, "accept"),
    (S.SUBMITTED, "return_for_correction"),
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition_table(state, name):
    investigation = Investigation()
    investigation._meta.get_field("state").protected = False
    try:
        investigation.state = state
    finally:
        investigation._meta.get_field("state").protected = True
    assert can_proceed(getattr(investigation, name), check_conditions=False) == (
        (state, name) in ALLOWED)


def _investigating(world):
    """Submitted and taken into investigation, but (unlike world.in_state, which walks the
    investigation to acceptance) with no investigation yet."""
    seed_builtin_templates()
    application = world.in_state(ApplicationState.SUBMITTED)
    return app_services.application_start_investigation(application_id=application.pk,
                                                         actor=world.user("am.north"))


@pytest.fixture
def investigating(world):
    return _investigating(world)


@pytest.fixture
def people(world):
    return {name: world.user(f"{name}.north")
            for name in ("am", "assistant", "lead", "reviewer", "approver", "postloan")}


def _assign(application, people):
    return workflow.investigation_assign(application_id=application.pk,
                                         lead_officer=people["am"],
                                         assisting_officer=people["assistant"], actor=people["am"])


@pytest.fixture
def started(investigating, people):
    investigation = _assign(investigating, people)
    return workflow.investigation_start(investigation_id=investigation.pk,
                                        actor=people["assistant"])


def _save(investigation, user, code, value, **kw):
    return workflow.answer_save(investigation_id=investigation.pk, item_code=code, value=value,
                                actor=user, **kw)


def test_assign_picks_published_default_template_and_audits(investigating, people):
    investigation = _assign(investigating, people)
    assert investigation.state == S.ASSIGNED
    assert investigation.template.code == "three-products-three-tables"
    assert AuditEvent.objects.filter(action="investigation.assigned").count() == 1
    assert {people["am"].pk, people["assistant"].pk} <= conflicted_user_ids(investigating)


def test_assign_refusals(investigating, people, world):
    with pytest.raises(ValidationError) as exc:
        workflow.investigation_assign(application_id=investigating.pk,
                                      lead_officer=people["am"], assisting_officer=people["am"],
                                      actor=people["am"])
    assert "assisting_officer" in exc.value.message_dict
    with pytest.raises(ValidationError):  # a reviewer is not an account manager
        workflow.investigation_assign(application_id=investigating.pk,
                                      lead_officer=people["am"],
                                      assisting_officer=people["reviewer"], actor=people["am"])
    with pytest.raises(ValidationError):  # another branch's account manager
        workflow.investigation_assign(application_id=investigating.pk,
                                      lead_officer=people["am"],
                                      assisting_officer=world.user("am.south"),
                                      actor=people["am"])
    with pytest.raises(PermissionDenied):
        workflow.investigation_assign(application_id=investigating.pk,
                                      lead_officer=people["am"],
                                      assisting_officer=people["assistant"],
                                      actor=people["reviewer"])
    # a team lead may assign; then a second assignment is refused
    workflow.investigation_assign(application_id=investigating.pk, lead_officer=people["am"],
                                  assisting_officer=people["assistant"], actor=people["lead"])
    with pytest.raises(TransitionConflict):
        _assign(investigating, people)


def test_assign_refused_outside_investigation(world, people):
    seed_builtin_templates()
    with pytest.raises(TransitionConflict):
        _assign(world.draft(), people)


def test_two_distinct_officers_enforced_by_database(investigating, people):
    investigation = _assign(investigating, people)
    with pytest.raises(IntegrityError), transaction.atomic():
        Investigation.objects.filter(pk=investigation.pk).update(
            assisting_officer=people["am"])


def test_start_only_by_an_officer_and_once(investigating, people):
    investigation = _assign(investigating, people)
    with pytest.raises(PermissionDenied):
        workflow.investigation_start(investigation_id=investigation.pk, actor=people["lead"])
    workflow.investigation_start(investigation_id=investigation.pk, actor=people["am"])
    with pytest.raises(TransitionConflict):
        workflow.investigation_start(investigation_id=investigation.pk, actor=people["am"])


def test_answer_refused_before_start_and_for_others(investigating, people):
    investigation = _assign(investigating, people)
    with pytest.raises(TransitionConflict):
        _save(investigation, people["am"], "A4_AMOUNT", "500000")
    workflow.investigation_start(investigation_id=investigation.pk, actor=people["am"])
    with pytest.raises(PermissionDenied):
        _save(investigation, people["reviewer"], "A4_AMOUNT", "500000")


def test_answer_validation_errors_name_the_item(started, people):
    for code, value in [("A4_AMOUNT", "-1"), ("A4_AMOUNT", 1.5), ("B1_OVERDUE", "yes"),
                        ("A4_PURPOSE", "gambling"), ("B10_REPUTATION", "fine"),
                        ("A4_MATURITY", "31/12/2026"), ("D7_LEVERAGE", "0.5"),
                        ("C1_SITE_PHOTOS", "photo.jpg"), ("NOPE", "1")]:
        with pytest.raises(ValidationError) as exc:
            _save(started, people["am"], code, value)
        assert code in exc.value.message_dict, (code, exc.value.message_dict)


def test_not_applicable_needs_permission_and_reason(started, people):
    with pytest.raises(ValidationError):
        _save(started, people["am"], "A4_AMOUNT", None, not_applicable=True, na_reason="x")
    with pytest.raises(ValidationError):
        _save(started, people["am"], "C2_LEASE_END", None, not_applicable=True, na_reason=" ")
    answer = _save(started, people["am"], "C2_LEASE_END", None, not_applicable=True,
                   na_reason="Premises are owned.")
    assert answer.not_applicable and answer.value is None


def test_version_conflict_and_idempotent_retry(started, people):
    first = _save(started, people["am"], "A4_AMOUNT", "500000")
    assert first.version == 1
    retry = _save(started, people["am"], "A4_AMOUNT", "500000")  # expected_version None again
    assert retry.version == 1
    events = AuditEvent.objects.filter(action="investigation.answer_saved").count()
    assert events == 1
    second = _save(started, people["assistant"], "A4_AMOUNT", "450000", expected_version=1)
    assert second.version == 2
    with pytest.raises(workflow.AnswerConflict) as exc:
        _save(started, people["am"], "A4_AMOUNT", "480000", expected_version=1)
    assert exc.value.status_code == 409
    assert exc.value.fields["current"]["value"] == "450000"
    assert exc.value.fields["current"]["version"] == 2
    assert Answer.objects.get(pk=first.pk).value == "450000"


def test_site_check_in_only_officers_and_valid_coordinates(started, people):
    with pytest.raises(PermissionDenied):
        workflow.site_check_in(investigation_id=started.pk, officer=people["reviewer"],
                               lat="31.2", lng="121.4")
    with pytest.raises(ValidationError):
        workflow.site_check_in(investigation_id=started.pk, officer=people["am"],
                               lat="95", lng="121.4")
    check_in = workflow.site_check_in(investigation_id=started.pk, officer=people["am"],
                                      lat="31.2304", lng="121.4737", accuracy_m=5)
    assert check_in.lat == Decimal("31.230400")


def test_submit_lists_everything_missing(started, people):
    _save(started, people["am"], "C2_LEASE_END", None, not_applicable=True, na_reason="Owned.")
    _save(started, people["am"], "A4_AMOUNT", "500000")  # evidence missing
    _save(started, people["am"], "C1_SITE_PHOTOS", ["p1", "p2"])  # 2 of 5 photos
    workflow.site_check_in(investigation_id=started.pk, officer=people["am"], lat="31",
                           lng="121")
    with pytest.raises(workflow.InvestigationIncomplete) as exc:
        workflow.investigation_submit(investigation_id=started.pk, actor=people["am"])
    missing = exc.value.fields["missing"]
    assert any(m.startswith("A4_AMOUNT: evidence missing") and "application_form" in m
               for m in missing)
    assert any(m.startswith("C1_SITE_PHOTOS") and "2 of 5" in m for m in missing)
    assert "A4_MATURITY: not answered." in missing
    assert not any(m.startswith("C2_LEASE_END") for m in missing)
    assert not any(m.startswith("D7_LEVERAGE") for m in missing)  # derived: never typed
    assert "The assisting officer has not checked in at the site." in missing
    assert "The lead officer has not checked in at the site." not in missing




@pytest.fixture
def gate():
    """The send_to_review guard, registered by InvestigationsConfig.ready()."""
    assert workflow.investigation_accepted_guard in _guards["send_to_review"]


def test_gate_application_cannot_go_to_review_before_acceptance(investigating, people, gate):
    with pytest.raises(ApplicationBlocked) as exc:
        app_services.application_send_to_review(application_id=investigating.pk,
                                                 actor=people["am"])
    assert "No investigation has been assigned yet." in exc.value.fields["reasons"]
    investigation = _assign(investigating, people)
    with pytest.raises(ApplicationBlocked) as exc:
        app_services.application_send_to_review(application_id=investigating.pk,
                                                 actor=people["am"])
    assert "not been accepted" in exc.value.fields["reasons"][0]
    assert investigation.state == S.ASSIGNED


def test_full_round_return_resubmit_accept_then_review(investigating, people, gate):
    from apps.demo.lifecycle import _demo_evidence, _demo_value

    investigation = _assign(investigating, people)
    workflow.investigation_start(investigation_id=investigation.pk, actor=people["am"])
    for item in investigation.template.items.filter(required=True).exclude(
            answer_type="derived"):
        _save(investigation, people["am"], item.code, _demo_value(item, investigating),
              evidence=_demo_evidence(item))
    for officer in (people["am"], people["assistant"]):
        workflow.site_check_in(investigation_id=investigation.pk, officer=officer, lat="31",
                               lng="121")
    submitted = workflow.investigation_submit(investigation_id=investigation.pk,
                                              actor=people["assistant"])
    assert submitted.state == S.SUBMITTED and submitted.submission_count == 1
    assert isinstance(submitted.red_flags, list) and submitted.cross_check_findings

    for officer in ("am", "assistant", "approver"):  # officers, account manager, not reviewer
        with pytest.raises(PermissionDenied):
            workflow.investigation_accept(investigation_id=investigation.pk,
                                          actor=people[officer])
    with pytest.raises(ValidationError):
        workflow.investigation_return(investigation_id=investigation.pk,
                                      actor=people["reviewer"], comments={})
    with pytest.raises(ValidationError):
        workflow.investigation_return(investigation_id=investigation.pk,
                                      actor=people["reviewer"], comments={"NOPE": "x"})
    returned = workflow.investigation_return(
        investigation_id=investigation.pk, actor=people["reviewer"],
        comments={"B10_REPUTATION": "Name the neighbours you spoke to."})
    assert returned.state == S.RETURNED
    assert ItemComment.objects.get(investigation=investigation).round == 1
    answer = Answer.objects.get(investigation=investigation, item__code="B10_REPUTATION")
    _save(investigation, people["assistant"], "B10_REPUTATION",
          "Spoke to Mr Li (hardware shop next door) and Ms Wang (supplier): both say the "
          "owner pays on time.", expected_version=answer.version)
    resubmitted = workflow.investigation_submit(investigation_id=investigation.pk,
                                                actor=people["am"])
    assert resubmitted.submission_count == 2
    accepted = workflow.investigation_accept(investigation_id=investigation.pk,
                                             actor=people["reviewer"])
    assert accepted.state == S.ACCEPTED and accepted.reviewed_by == people["reviewer"]
    with pytest.raises(TransitionConflict):
        _save(investigation, people["am"], "A4_AMOUNT", "1")

    moved = app_services.application_send_to_review(application_id=investigating.pk,
                                                    actor=people["am"])
    assert moved.state == ApplicationState.UNDER_REVIEW
    # the reviewer who accepted the investigation may still review the application
    assert people["reviewer"].pk not in conflicted_user_ids(moved)


def test_walking_the_lifecycle_investigates(world, people):
    application = world.in_state(ApplicationState.INVESTIGATING)
    investigation = application.investigation
    assert investigation.state == S.ACCEPTED
    assert investigation.reviewed_by == people["reviewer"]
    assert investigation.check_ins.count() == 2


def test_officers_may_not_review_the_application(world, people):
    # A reviewer who was (wrongly) made an account manager too is still conflicted as officer.
    dual = user_create(username="dual.north", password="credence-demo-pw",
                       branch=world.north, roles=[Role.ACCOUNT_MANAGER, Role.RISK_REVIEWER],
                       first_name="Dual", last_name="North")
    application = _investigating(world)
    workflow.investigation_assign(application_id=application.pk, lead_officer=people["am"],
                                  assisting_officer=dual, actor=people["am"])
    assert dual.pk in conflicted_user_ids(application)
