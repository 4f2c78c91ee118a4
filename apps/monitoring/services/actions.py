"""Mandatory actions (§4.4): opened when a signal opens or rises to a level, done with
evidence by the loan's officer, waived by a second person, marked overdue by a sweeper."""

import datetime as dt
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.fsm import transition_check
from apps.investigations.policy import policy_values_in_force
from apps.monitoring.bulk_rows import insert_rows
from apps.monitoring.hooks import request_special_inspections
from apps.monitoring.models import Action, LevelActionRule, LevelActionTable
from apps.monitoring.policy import MissingPolicy, Policy
from apps.monitoring.services.audit import audit_loan_event
from apps.monitoring.sql import any_of
from apps.monitoring.states import ActionKind, ActionState
from apps.policy.versioning import version_in_force


def level_action_rules(*, on: dt.date) -> dict[int, list[LevelActionRule]]:
    """The level → actions table in force on a day (the highest version, where versions
    overlap), as level → its rows."""
    version = (version_in_force(LevelActionTable.objects, on=on).order_by("-version")
               .values_list("pk", flat=True).first())
    table: dict[int, list[LevelActionRule]] = {}
    for rule in LevelActionRule.objects.filter(table_id=version).order_by("level", "kind"):
        table.setdefault(rule.level, []).append(rule)
    return table


class OpenedAction(NamedTuple):
    """An action as opened in a batch (the run counts them; pages read the table)."""

    loan_id: int
    branch_id: int
    kind: str
    level: int
    rule_id: int
    signal_id: int | None
    owner_id: int
    due_date: dt.date
    deadline_policy: dict


def actions_open_missing(*, raised: list[tuple], on: dt.date, policy: Policy | None = None,
                         actor=None) -> list["OpenedAction"]:
    """For each (loan, level, signal) just opened or raised, open the level's mandatory
    actions the loan does not already have open. Set-based: one read, one insert.

    Each action is owned by the loan's officer; its deadline is `on` + the level's policy
    days. Special checks also ask the inspections code for a special inspection (hook)."""
    if not raised:
        return []
    policy = policy or Policy(on=on)
    table = level_action_rules(on=on)
    # Per rule, once and only when an action of it is opened (the policy keys read are
    # recorded on the run's proposals): its deadline and the policy version behind it, one
    # shared dict per rule so the batch insert serialises it once, not once per action.
    deadlines: dict[int, tuple[dt.date, dict]] = {}

    def deadline(rule: LevelActionRule) -> tuple[dt.date, dict]:
        if rule.pk not in deadlines:
            days = policy.integer(rule.deadline_policy_key)
            deadlines[rule.pk] = (on + dt.timedelta(days=days), {
                rule.deadline_policy_key: policy.used[rule.deadline_policy_key]})
        return deadlines[rule.pk]

    loan_ids = {loan.pk for loan, _level, _signal in raised}
    have = set(Action.objects.filter(any_of(Action, "loan", loan_ids), state__in=[
        ActionState.OPEN, ActionState.OVERDUE]).values_list("loan_id", "kind"))
    new: list[OpenedAction] = []
    for loan, level, signal in raised:
        for rule in table.get(level, []):
            if (loan.pk, rule.kind) in have:
                continue
            have.add((loan.pk, rule.kind))
            due_date, deadline_policy = deadline(rule)
            new.append(OpenedAction(loan.pk, loan.branch_id, rule.kind, level, rule.pk,
                                    signal.pk, loan.officer_id, due_date, deadline_policy))
    # One INSERT for the batch (bulk_create cost ~1 ms a row in the run). ON CONFLICT DO
    # NOTHING: an inspection raising a signal at the same moment may have opened the same
    # action; the partial unique index keeps one.
    insert_rows(Action, {name: [getattr(a, name) for a in new]
                         for name in OpenedAction._fields}, on_conflict_nothing=True)
    reasons: dict[int, str] = {}  # translated once per level, not per action
    request_special_inspections([
        (a.loan_id, a.due_date, reasons.get(a.level) or reasons.setdefault(
            a.level, _("Special check required by a level %(level)d warning.")
            % {"level": a.level})) for a in new if a.kind == ActionKind.SPECIAL_CHECK])
    if new:
        audit_record(action="monitoring_action.opened", actor=actor,
                     subject=("monitoring.action", f"batch:{on.isoformat()}"),
                     payload={"actions": [[a.loan_id, a.kind, a.level, str(a.due_date)]
                                          for a in new][:2000], "count": len(new)})
    return new


def actions_open_requested(*, loan_id: int, kinds: list[str], on: dt.date, source: str,
                           actor=None) -> tuple[list[Action], list[str]]:
    """Open the actions a reviewed inspection conclusion asked for (§4.2 → §4.4), in the
    caller's transaction: owner the loan's officer, deadline from the policy of the lowest
    level whose mandatory actions include that kind (the table in force on `on`).

    Idempotent: a kind the loan already has open (or overdue) is not opened twice. Returns
    (opened, not_opened): a kind no level requires, or whose deadline policy is not in force,
    cannot get a deadline and is reported (and audited) instead of being guessed."""
    from apps.loans.models import Loan

    loan = Loan.objects.select_for_update(no_key=True, of=("self",)).get(pk=loan_id)
    policy = Policy(on=on)
    table = level_action_rules(on=on)
    lowest: dict[str, LevelActionRule] = {}
    for level in sorted(table):
        for rule in table[level]:
            lowest.setdefault(rule.kind, rule)
    have = set(Action.objects.filter(loan_id=loan.pk, state__in=[
        ActionState.OPEN, ActionState.OVERDUE]).values_list("kind", flat=True))
    opened: list[Action] = []
    not_opened: list[str] = []
    for kind in dict.fromkeys(kinds):
        if kind in have:
            continue
        rule = lowest.get(kind)
        try:
            days = policy.integer(rule.deadline_policy_key) if rule is not None else None
        except MissingPolicy:
            days = None
        if days is None:
            not_opened.append(kind)
            continue
        try:
            # A savepoint: the monthly run may open the same kind at this moment (it does not
            # lock loans); the partial unique index keeps one, and that one stands.
            with transaction.atomic():
                opened.append(Action.objects.create(
                    loan_id=loan.pk, branch_id=loan.branch_id, kind=kind, level=rule.level,
                    rule=rule, owner_id=loan.officer_id, due_date=on + dt.timedelta(days=days),
                    deadline_policy={rule.deadline_policy_key:
                                     policy.used[rule.deadline_policy_key]}))
        except IntegrityError:
            continue
    request_special_inspections([
        (loan.pk, action.due_date, _("Special check requested by the conclusion of %(source)s.")
         % {"source": source}) for action in opened if action.kind == ActionKind.SPECIAL_CHECK])
    if opened or not_opened:
        audit_loan_event(action="monitoring_action.opened", actor=actor, subject=loan, loan=loan,
                         payload={"source": source, "count": len(opened),
                                  "actions": [[a.pk, a.kind, a.level, str(a.due_date)]
                                              for a in opened],
                                  "not_opened": not_opened})
    return opened, not_opened


def _locked(action_id: int) -> Action:
    return Action.objects.select_for_update(no_key=True, of=("self",)).select_related("loan").get(
        pk=action_id)


@transaction.atomic
def action_complete(*, action_id: int, actor, note: str, document=None) -> Action:
    """Done, with evidence: what was done (note) and a document of the loan's file if any."""
    action = _locked(action_id)
    transition_check(action.complete, actor=actor)
    errors = {}
    if not (note or "").strip():
        errors["note"] = _("Describe what was done: the evidence is required.")
    if document is not None and document.application_id != action.loan.application_id:
        errors["document_id"] = _("The document must belong to this loan's file.")
    if errors:
        raise ValidationError(errors)
    action.complete(by=actor, at=timezone.now(), note=note.strip(), document=document)
    action.save()
    audit_record(action="monitoring_action.done", actor=actor, subject=action, payload={
        "loan": action.loan.loan_number, "kind": action.kind, "note": action.evidence_note,
        "document": getattr(document, "pk", None)})
    return action


@transaction.atomic
def action_waive(*, action_id: int, actor, reason: str) -> Action:
    """Waived by a second person (team lead or risk reviewer, not the owner), with reason."""
    action = _locked(action_id)
    transition_check(action.waive, actor=actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the action is waived.")})
    action.waive(by=actor, at=timezone.now(), reason=reason.strip())
    action.save()
    audit_record(action="monitoring_action.waived", actor=actor, subject=action, payload={
        "loan": action.loan.loan_number, "kind": action.kind, "reason": action.waive_reason})
    return action


def actions_overdue_sweep(*, today: dt.date | None = None) -> int:
    """Mark open actions past their deadline overdue, one transaction per action (few a day)."""
    today = today or timezone.localdate()
    ids = list(Action.objects.filter(state=ActionState.OPEN, due_date__lt=today)
               .values_list("pk", flat=True))
    for action_id in ids:
        with transaction.atomic():
            action = _locked(action_id)
            if action.state != ActionState.OPEN:
                continue  # done meanwhile
            action.mark_overdue(at=timezone.now())
            action.save()
            audit_record(action="monitoring_action.overdue", actor=None, subject=action,
                         payload={"loan": action.loan.loan_number, "kind": action.kind,
                                  "due": str(action.due_date)})
    return len(ids)


def policy_deadline_days(level: int, *, on: dt.date) -> int | None:
    """The deadline days of a level in force (for pages that explain the SLA)."""
    from apps.monitoring.policy import K

    row = policy_values_in_force(on=on).get(K.deadline(level))
    return int(row.value) if row else None
