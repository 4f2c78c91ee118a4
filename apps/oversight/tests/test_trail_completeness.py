"""Acceptance: a whole lifecycle walked through the services leaves a complete, ordered
trail, and the process trail page shows it with the checklist as it stood at submission."""

from collections import Counter

import pytest
from django.urls import reverse
from django_fsm.signals import post_transition

from apps.audit.models import AuditEvent
from apps.documents.models import Document
from apps.investigations.models import Investigation
from apps.oversight.trail import build_trail

pytestmark = pytest.mark.django_db


@pytest.fixture
def transitions():
    """Every FSM transition made while the test runs, whatever the model."""
    seen = []

    def record(sender, instance, name, source, target, **kwargs):
        seen.append((instance._meta.label_lower, str(instance.pk), name, source, target))
    post_transition.connect(record, weak=False, dispatch_uid="oversight-trail-test")
    yield seen
    post_transition.disconnect(dispatch_uid="oversight-trail-test")


@pytest.fixture
def walked(world, transitions):
    application = world.in_state("disbursed")
    return application, list(transitions)


def test_lifecycle_trail_is_complete_and_ordered(walked):
    """One walk (the slow part), three views of completeness."""
    _every_transition_has_its_event(walked)
    _moves_chain_from_state_to_state(walked)
    _trail_is_complete_and_ordered(walked)


def _every_transition_has_its_event(walked):
    _application, transitions = walked
    assert transitions, "the walk made transitions"
    made = Counter((label, pk) for label, pk, *_rest in transitions)
    for (label, pk), count in made.items():
        recorded = AuditEvent.objects.filter(subject_type=label, subject_id=pk).count()
        assert recorded >= count, f"{label}:{pk} moved {count} times, {recorded} events"


def _moves_chain_from_state_to_state(walked):
    application, _transitions = walked
    investigation = Investigation.objects.get(application=application)
    for subject, final in ((application, application.state),
                           (investigation, investigation.state)):
        moves = [e.payload for e in AuditEvent.objects.filter(
            subject_type=subject._meta.label_lower, subject_id=str(subject.pk))
            .order_by("seq") if "to" in e.payload]
        assert moves
        for before, after in zip(moves, moves[1:], strict=False):
            assert after["from"] == before["to"], (before, after)
        assert moves[-1]["to"] == final


def _trail_is_complete_and_ordered(walked):
    application, _transitions = walked
    trail = build_trail(application)
    events = [step.event for step in trail.steps]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    actions = [e.action for e in events]
    road = ["application.created", "application.submitted", "application.investigation_started",
            "investigation.assigned", "investigation.started", "investigation.answer_saved",
            "investigation.site_checked_in", "investigation.submitted",
            "investigation.accepted", "application.sent_to_review",
            "application.sent_to_approval", "application.approved", "application.contracted",
            "application.disbursed"]
    position = 0
    for action in actions:  # the road appears in this order (other events may interleave)
        if position < len(road) and action == road[position]:
            position += 1
        elif position < len(road) and action == road[position - 1]:
            continue
    assert position == len(road), f"missing or out of order after {road[position - 1]}"

    investigation = Investigation.objects.get(application=application)
    answers = list(investigation.answers.select_related("item"))
    saved = Counter(e.payload["item"] for e in events
                    if e.action == "investigation.answer_saved")
    assert {a.item.code: a.version for a in answers} == dict(saved)
    checked_in = [e.actor_id for e in events if e.action == "investigation.site_checked_in"]
    assert sorted(checked_in) == sorted(investigation.check_ins.values_list("officer_id",
                                                                            flat=True))
    for document in Document.objects.filter(application=application):
        assert any(e.action == "document.uploaded" and e.subject_id == str(document.pk)
                   for e in events)
    # Events of the application's parts are scoped to it (and its enterprise and branch).
    parts = [e for e in events if e.subject_type != "applications.application"
             and not e.action.endswith(".viewed")]
    assert parts and all(e.application_id == application.pk for e in parts)
    assert all(e.branch_id == application.branch_id for e in parts)
    assert all(e.enterprise_id == application.enterprise_id for e in parts)


def test_checklist_snapshot_people_and_the_page(walked, client_as):
    _checklist_as_submitted_is_replayed_from_the_answer_events(walked)
    _trail_page_shows_the_timeline_and_records_the_view(walked, client_as)


def _checklist_as_submitted_is_replayed_from_the_answer_events(walked):
    application, _transitions = walked
    trail = build_trail(application)
    assert len(trail.snapshots) == 1
    snapshot = trail.snapshots[0]
    investigation = Investigation.objects.get(application=application)
    answered = {a.item.code for a in investigation.answers.select_related("item")}
    assert {code for code, _label, _value in snapshot.answers} == answered
    assert all(label for _code, label, _value in snapshot.answers)
    # A choice reads as the officer chose it (its label), never as the stored code.
    shown = {code: value for code, _label, value in snapshot.answers}
    chosen = [a for a in investigation.answers.select_related("item")
              if a.item.answer_type == "single_choice" and not a.not_applicable]
    assert chosen
    for answer in chosen:
        labels = {c["code"]: c["en"] for c in answer.item.choices}
        assert shown[answer.item.code] == labels[answer.value], answer.item.code
    assert any(step.snapshot == 0 and step.event.action == "investigation.submitted"
               for step in trail.steps)
    people = {p.name for p in trail.people}
    assert len(people) >= 4  # account manager, assistant, reviewer, approver, post-loan


def _trail_page_shows_the_timeline_and_records_the_view(walked, client_as):
    application, _transitions = walked
    response = client_as("auditor.south").get(reverse("oversight:trail",
                                                      args=[application.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert application.reference in text and "application.disbursed" in text
    assert "snapshot-0" in text
    viewed = AuditEvent.objects.filter(action="trail.viewed").get()
    assert viewed.application_id == application.pk
    assert viewed.actor.username == "auditor.south"
