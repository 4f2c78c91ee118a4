"""The per-application process trail: who did what, when, on what evidence (issue 8).

Built only from the audit trail (plus labels and links), so it shows what was recorded, not
what the rows say today. The checklist "as it stood at each submission" is replayed from the
`investigation.answer_saved` events' new values up to each `investigation.submitted` event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.audit.registry import action_label
from apps.investigations.models import Investigation, Item
from apps.investigations.states import InvestigationState
from apps.oversight.selectors import application_events_q


@dataclass
class Step:
    event: AuditEvent
    label: str
    summary: str
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (text, url or "")
    snapshot: int | None = None  # index into Trail.snapshots


@dataclass
class Snapshot:
    seq: int
    round: int | None
    at: object
    answers: list[tuple[str, str, str]]  # (item code, label, value as text)


@dataclass
class Person:
    user_id: int | None
    name: str
    roles: str
    actions: int
    first: object
    last: object


@dataclass
class Trail:
    application: Application
    steps: list[Step]
    snapshots: list[Snapshot]
    people: list[Person]


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    return str(value)


# The state machines whose moves the trail shows, by the prefix of their audit actions: a move
# reads "Under review → In approval", not the stored values.
_STATES_BY_ACTION = {"application.": ApplicationState, "investigation.": InvestigationState}


def _state_label(action: str, value) -> str:
    for prefix, states in _STATES_BY_ACTION.items():
        if action.startswith(prefix) and value in states.values:
            return str(states(value).label)
    return str(value)


def _answer_text(new: dict, choices: dict[str, str] | None = None) -> str:
    """The answer as the officer chose it: a choice by its label in the reader's language
    ("No collateral (credit loan)", not the stored code "none")."""
    if new.get("not_applicable"):
        return _("Not applicable: %(reason)s") % {"reason": new.get("na_reason") or ""}
    value = new.get("value")
    if choices:
        if isinstance(value, str):
            value = choices.get(value, value)
        elif isinstance(value, list):
            value = [choices.get(v, v) if isinstance(v, str) else v for v in value]
    return _value_text(value)


def _choice_labels(item: Item) -> dict[str, str]:
    language = "zh" if (get_language() or "").startswith("zh") else "en"
    return {c["code"]: c.get(language) or c.get("en") or c["code"]
            for c in item.choices or [] if isinstance(c, dict) and "code" in c}


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _summary(event: AuditEvent, items: dict | None = None,
             choices: dict[str, dict[str, str]] | None = None) -> tuple[str, list[tuple[str, str]]]:
    """A sentence of what happened and the evidence it points to."""
    payload, evidence = event.payload or {}, []
    parts = []
    if "from" in payload and "to" in payload:
        parts.append(f"{_state_label(event.action, payload['from'])} → "
                     f"{_state_label(event.action, payload['to'])}")
    for key in ("comment", "reason"):
        if payload.get(key):
            parts.append(f"“{payload[key]}”")
    if event.action == "investigation.answer_saved":
        old, new = payload.get("old") or {}, payload.get("new") or {}
        code = payload.get("item")
        # The question as the officer read it, its code after it for those who search by code.
        label = (items or {}).get(code)
        parts.append(_("%(item)s: %(old)s → %(new)s") % {
            "item": f"{label} ({code})" if label else code,
            "old": _answer_text(old, (choices or {}).get(code)) or "—",
            "new": _answer_text(new, (choices or {}).get(code)) or "—"})
    elif event.action == "investigation.site_checked_in":
        parts.append(_("at %(lat)s, %(lng)s") % {"lat": payload.get("lat"),
                                                 "lng": payload.get("lng")})
    elif event.action in ("document.uploaded", "document.downloaded"):
        name = payload.get("original_filename") or payload.get("document_type") or ""
        evidence.append((_("Document %(id)s %(name)s") % {"id": event.subject_id, "name": name},
                         _url("documents:download", int(event.subject_id))
                         if event.subject_id.isdigit() else ""))
    elif event.action == "investigation.submitted":
        flags = payload.get("red_flags") or []
        checks = payload.get("cross_checks") or []
        parts.append(_("round %(round)s; red flags: %(flags)s; cross-check findings: "
                       "%(checks)s") % {"round": payload.get("round"),
                                        "flags": ", ".join(flags) or "—",
                                        "checks": ", ".join(checks) or "—"})
    elif event.action == "investigation.returned":
        for code, text in (payload.get("comments") or {}).items():
            parts.append(f"{code}: {text}")
    return "; ".join(str(p) for p in parts), evidence


def application_trail_events(application_id: int):
    return (AuditEvent.objects.filter(application_events_q(application_id))
            .select_related("actor").order_by("seq"))


def build_trail(application: Application) -> Trail:
    """The application's timeline, snapshots and people in four queries (events, items,
    people's groups, investigation), whatever the number of events."""
    investigation = Investigation.objects.filter(application=application).first()
    items, choices = {}, {}
    if investigation is not None:
        for item in (Item.objects.filter(template_id=investigation.template_id)
                     .only("code", "label_en", "label_zh", "choices")):
            items[item.code] = item.label
            if item.choices:
                choices[item.code] = _choice_labels(item)
    steps, snapshots, answers = [], [], {}
    people: dict[int | None, Person] = {}
    for event in application_trail_events(application.pk).iterator(chunk_size=1000):
        summary, evidence = _summary(event, items, choices)
        step = Step(event=event, label=action_label(event.action), summary=summary,
                    evidence=evidence)
        if event.action == "investigation.answer_saved":
            answers[event.payload.get("item")] = event.payload.get("new") or {}
            evidence.append((_("Checklist item %(code)s") % {"code": event.payload.get("item")},
                             ""))
        if event.action == "investigation.submitted":
            snapshots.append(Snapshot(
                seq=event.seq, round=event.payload.get("round"), at=event.occurred_at,
                answers=[(code, items.get(code, ""), _answer_text(new, choices.get(code)))
                         for code, new in sorted(answers.items())]))
            step.snapshot = len(snapshots) - 1
        steps.append(step)
        person = people.get(event.actor_id)
        if person is None:
            name = event.actor.display_name if event.actor else _("System")
            person = people[event.actor_id] = Person(event.actor_id, name, "", 0,
                                                     event.occurred_at, event.occurred_at)
        person.actions += 1
        person.last = event.occurred_at
    users = User.objects.filter(pk__in=[k for k in people if k]).prefetch_related("groups")
    for user in users:
        people[user.pk].roles = ", ".join(sorted(
            str(Role(g.name).label) if g.name in Role.values else g.name
            for g in user.groups.all()))
    return Trail(application=application, steps=steps, snapshots=snapshots,
                 people=sorted(people.values(), key=lambda p: p.first))
