"""Writes for the covenant lifecycle: amend, waive for a period, or end a covenant, four-eyes
(domain reference §6.3 "breach → waiver or action workflow"; §6.4 "requester ≠ approver").

A post-loan officer of the loan's branch proposes the change with a reason and a start day;
a team lead or risk reviewer of the branch who is not the proposer approves or rejects it.
An approved change takes effect on its start day, inclusive: at once when approved on or
after that day, otherwise through the daily covenant sweep (`covenant_changes_due`), which
is also the sweeper of the in-between `approved` state. Taking effect cancels the open
checks the change makes unnecessary (due inside a waiver, or on or after an end) and, once
a waiver's last day has passed, the sweep reinstates the covenant and schedules its next
check after the waived period.

Every service is one transaction: lock → permission (403) → state (409) → validation (400)
→ transition → save → audit scoped to the loan and branch (CONVENTIONS §3).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import TransitionConflict
from apps.core.fsm import transition_check
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring.covenant_models import Covenant, CovenantChange, CovenantCheck
from apps.monitoring.covenant_states import (
    OPEN_CHECK_STATES,
    CovenantChangeKind,
    CovenantChangeState,
    CovenantCheckState,
    CovenantKind,
    CovenantState,
)
from apps.monitoring.permissions import may_work_loan
from apps.monitoring.services.audit import audit_loan_event

logger = logging.getLogger(__name__)

TEXT_MAX = 4000
KIND = CovenantChangeKind


def _lock_loan_of(model, pk: int) -> None:
    """The loan first, as every covenant service and the daily sweep do (loan → change →
    covenant → checks, audit last): the same order everywhere, so no two of them deadlock."""
    loan_id = model.objects.values_list("loan_id", flat=True).get(pk=pk)
    Loan.objects.select_for_update(no_key=True, of=("self",)).get(pk=loan_id)


def _lock_covenant(covenant_id: int) -> Covenant:
    return (Covenant.objects.select_for_update(no_key=True, of=("self",))
            .select_related("loan").get(pk=covenant_id))


def _lock_change(change_id: int) -> CovenantChange:
    _lock_loan_of(CovenantChange, change_id)
    return (CovenantChange.objects.select_for_update(no_key=True, of=("self",))
            .select_related("loan", "covenant").get(pk=change_id))


def _as_date(value, field: str, errors: dict) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = [_("Enter a date, for example 2026-03-31.")]
        return None


def _clean_proposal(covenant: Covenant, *, kind: str, effective_from, waived_until,
                    new_kind: str, new_text: str, reason: str, today: dt.date) -> dict:
    """Field errors in sentences, each under its field (400)."""
    errors: dict[str, list[str]] = {}
    if kind not in KIND.values:
        errors["kind"] = [_("Choose whether to amend, waive or end the covenant.")]
    start = _as_date(effective_from, "effective_from", errors)
    if start is not None and start < today:
        errors["effective_from"] = [_("A change cannot start in the past: choose today or a "
                                      "later day.")]
    until = None
    if kind == KIND.WAIVE:
        until = _as_date(waived_until, "waived_until", errors) if waived_until else None
        if until is None and "waived_until" not in errors:
            errors["waived_until"] = [_("Say until which day the covenant is waived.")]
        elif until is not None and start is not None and until < start:
            errors["waived_until"] = [_("The waiver must end on or after its start day.")]
    new_text = (new_text or "").strip()
    if kind == KIND.AMEND:
        if new_kind and new_kind not in CovenantKind.values:
            errors["new_kind"] = [_("Choose a kind from the list.")]
        if (new_text or covenant.text) == covenant.text and (new_kind or covenant.kind) == \
                covenant.kind:
            errors["new_text"] = [_("Write the new wording or choose a new kind: the amendment "
                                    "must change something.")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Give the reason for the change.")]
    if errors:
        raise ValidationError(errors)
    amend = kind == KIND.AMEND
    return {"kind": kind, "effective_from": start, "waived_until": until,
            "new_kind": (new_kind if amend and new_kind != covenant.kind else ""),
            "new_text": (new_text[:TEXT_MAX] if amend and new_text != covenant.text else ""),
            "reason": reason[:TEXT_MAX]}


def _refuse_for_state(covenant: Covenant, kind: str) -> None:
    """409 in sentences: what the covenant's current state allows."""
    if covenant.loan.state not in OPEN_LOAN_STATES:
        raise TransitionConflict(detail=_("The loan is closed: its covenants no longer change."))
    if covenant.state == CovenantState.ENDED:
        raise TransitionConflict(detail=_("This covenant has ended: it can no longer be "
                                          "changed."))
    if kind == KIND.WAIVE and covenant.state != CovenantState.ACTIVE:
        raise TransitionConflict(detail=_("This covenant is already waived until %(day)s.")
                                 % {"day": covenant.waived_until})


@transaction.atomic
def covenant_change_propose(*, covenant_id: int, actor, kind: str, effective_from,
                            reason: str, waived_until=None, new_kind: str = "",
                            new_text: str = "", today: dt.date | None = None
                            ) -> CovenantChange:
    """A post-loan officer of the branch proposes to amend, waive or end a covenant (one
    open change per covenant: a second is 409 until the first is decided)."""
    _lock_loan_of(Covenant, covenant_id)
    covenant = _lock_covenant(covenant_id)
    if not may_work_loan(covenant, actor):
        raise PermissionDenied(_("Only a post-loan officer of the loan's branch proposes "
                                 "covenant changes."))
    _refuse_for_state(covenant, kind)
    clean = _clean_proposal(covenant, kind=kind, effective_from=effective_from,
                            waived_until=waived_until, new_kind=new_kind, new_text=new_text,
                            reason=reason, today=today or timezone.localdate())
    try:
        with transaction.atomic():  # savepoint: the unique "one open change" may refuse
            change = CovenantChange.objects.create(
                covenant=covenant, loan=covenant.loan, branch_id=covenant.branch_id,
                proposed_by=actor, **clean)
    except IntegrityError:
        raise TransitionConflict(detail=_("A change to this covenant is already waiting; "
                                          "it must be decided or withdrawn first.")) from None
    audit_loan_event(action="covenant_change.proposed", actor=actor, subject=change,
                     loan=covenant.loan, payload=_describe(change))
    return change


def _describe(change: CovenantChange) -> dict:
    return {"covenant": change.covenant_id, "kind": change.kind,
            "effective_from": change.effective_from.isoformat(),
            "waived_until": change.waived_until.isoformat() if change.waived_until else None,
            "new_kind": change.new_kind, "new_text": change.new_text, "reason": change.reason}


def _not_the_proposer(change: CovenantChange, actor) -> None:
    """Four-eyes, said plainly: the proposer gets a sentence, not a bare 403."""
    if actor is not None and actor.pk == change.proposed_by_id:
        raise PermissionDenied(_("You proposed this change, so a different person (a team lead "
                                 "or risk reviewer of the branch) must decide it."))


@transaction.atomic
def covenant_change_approve(*, change_id: int, actor, note: str = "",
                            today: dt.date | None = None) -> CovenantChange:
    """A second person approves; on or after its start day it takes effect at once."""
    change = _lock_change(change_id)
    _not_the_proposer(change, actor)
    transition_check(change.approve, actor=actor)
    change.approve(by=actor, at=timezone.now(), note=(note or "").strip()[:TEXT_MAX])
    change.save()
    audit_loan_event(action="covenant_change.approved", actor=actor, subject=change,
                     loan=change.loan, payload={"note": change.decision_note,
                                                **_describe(change)})
    today = today or timezone.localdate()
    if change.effective_from <= today:
        _take_effect(change, today=today, actor=actor)
    return change


@transaction.atomic
def covenant_change_reject(*, change_id: int, actor, note: str) -> CovenantChange:
    """A second person turns the change down with the reason."""
    change = _lock_change(change_id)
    _not_the_proposer(change, actor)
    transition_check(change.reject, actor=actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say why the change is rejected.")]})
    change.reject(by=actor, at=timezone.now(), note=note[:TEXT_MAX])
    change.save()
    audit_loan_event(action="covenant_change.rejected", actor=actor, subject=change,
                     loan=change.loan, payload={"note": change.decision_note})
    return change


@transaction.atomic
def covenant_change_withdraw(*, change_id: int, actor) -> CovenantChange:
    """The proposer takes the change back before it is decided."""
    change = _lock_change(change_id)
    transition_check(change.withdraw, actor=actor)
    change.withdraw(at=timezone.now())
    change.save()
    audit_loan_event(action="covenant_change.withdrawn", actor=actor, subject=change,
                     loan=change.loan, payload={})
    return change


def _cancel_checks(covenant: Covenant, *, first: dt.date, last: dt.date | None,
                   note: str) -> list[int]:
    """Open checks due in [first, last] (both inclusive; no last = for good) are no longer
    owed. Submitted checks are left to the second person."""
    checks = (CovenantCheck.objects.select_for_update(no_key=True, of=("self",))
              .filter(covenant=covenant, state__in=OPEN_CHECK_STATES, due_date__gte=first))
    if last is not None:
        checks = checks.filter(due_date__lte=last)
    cancelled, now = [], timezone.now()
    for check in checks.order_by("pk"):
        was_overdue = check.state == CovenantCheckState.OVERDUE
        check.cancel(at=now, note=note)
        check.save()
        audit_loan_event(action="covenant_check.cancelled", actor=None, subject=check,
                         loan=covenant.loan, payload={"due_date": check.due_date.isoformat(),
                                                      "was_overdue": was_overdue})
        cancelled.append(check.pk)
    return cancelled


def _take_effect(change: CovenantChange, *, today: dt.date, actor=None) -> None:
    """Apply an approved change whose start day has come (caller holds the change's lock;
    the covenant is locked here, the audit last)."""
    from apps.monitoring.covenant_services import overdue_resolved

    covenant = _lock_covenant(change.covenant_id)
    previous = {"state": covenant.state, "kind": covenant.kind, "text": covenant.text}
    cancelled: list[int] = []
    if change.kind == KIND.AMEND:
        # The open check, if any, tests the covenant as amended; the next one follows the
        # new kind's frequency.
        covenant.kind = change.new_kind or covenant.kind
        covenant.text = change.new_text or covenant.text
        covenant.save()
        action = "covenant.amended"
    elif change.kind == KIND.WAIVE:
        covenant.waive(until=change.waived_until)
        covenant.save()
        cancelled = _cancel_checks(covenant, first=change.effective_from,
                                   last=change.waived_until,
                                   note=_("Waived until %(day)s.") % {
                                       "day": change.waived_until.isoformat()})
        action = "covenant.waived"
    else:
        covenant.end(on=change.effective_from)
        covenant.save()
        cancelled = _cancel_checks(covenant, first=change.effective_from, last=None,
                                   note=_("The covenant ended on %(day)s.") % {
                                       "day": change.effective_from.isoformat()})
        action = "covenant.ended"
    change.take_effect(at=timezone.now(), previous=previous)
    change.save()
    audit_loan_event(action=action, actor=actor, subject=covenant, loan=covenant.loan,
                     payload={"change": change.pk, "previous": previous,
                              "cancelled_checks": cancelled, **_describe(change)})
    if cancelled:
        overdue_resolved(covenant.loan)


def covenant_changes_due(*, loan_id: int, today: dt.date) -> dict[str, int]:
    """The daily sweep's part for one loan (inside its transaction, loan locked): approved
    changes whose start day has come take effect; waivers whose last day has passed end and
    the covenant is tested again. Idempotent: re-read states, no-op when done."""
    from apps.monitoring.covenant_services import schedule_next_check

    done = {"changes_in_effect": 0, "covenants_reinstated": 0}
    due = (CovenantChange.objects.select_for_update(no_key=True, of=("self",))
           .select_related("loan", "covenant")
           .filter(loan_id=loan_id, state=CovenantChangeState.APPROVED,
                   effective_from__lte=today).order_by("effective_from", "pk"))
    for change in due:
        if change.covenant.state == CovenantState.ENDED:
            continue  # an earlier change ended it; this one stays approved, visibly unapplied
        _take_effect(change, today=today)
        done["changes_in_effect"] += 1
    lapsed = (Covenant.objects.select_for_update(no_key=True, of=("self",))
              .select_related("loan")
              .filter(loan_id=loan_id, state=CovenantState.WAIVED, waived_until__lt=today))
    for covenant in lapsed.order_by("pk"):
        covenant.reinstate()
        covenant.save()
        audit_loan_event(action="covenant.reinstated", actor=None, subject=covenant,
                         loan=covenant.loan, payload={
                             "waived_until": covenant.waived_until.isoformat()})
        schedule_next_check(covenant, today=today)
        done["covenants_reinstated"] += 1
    return done
