"""Signing one step of the route (有权审批人签批): approve (maybe for less, maybe with extra
conditions), return for rework, or reject — with the password re-entered, a signature over the
decision, and the signer's authority recorded.

Concurrency: the step row is locked, and the step's one-to-one sign-off is the database's last
word, so of several approvers pressing "approve" at once exactly one signature counts; the others
find the step already decided (409).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.approvals.lockout import FAILURE_ACTION, LOCKED_ACTION, locked_until
from apps.approvals.models import ApprovalStep, Decision, SignOff, StepKind
from apps.approvals.services.decisions import (
    approved_terms,
    conditions_add,
    lock_step,
    step_decided,
)
from apps.approvals.services.review import _clean_conditions
from apps.approvals.signing import sign
from apps.approvals.sod import signing_permission_refusal
from apps.approvals.states import StepState
from apps.audit.services import audit_record, audit_record_now
from apps.core.exceptions import DomainError, TransitionConflict

REASON_MAX_LENGTH = 4000


class WrongPassword(PermissionDenied):
    """The password re-entered at signing was wrong: refused, and the refusal is audited."""


class SigningLocked(DomainError):
    """Too many wrong passwords lately (apps.approvals.lockout): no signing until the window
    passes (HTTP 429, the usual answer for "try again later")."""

    code = "signing_locked"
    status_code = 429


def password_confirm(*, actor, password: str, step_id: int) -> None:
    """Re-authentication for a signature (the user is present, not a hijacked session).

    A wrong password is recorded in a transaction of its own, so the refusal stays in the
    trail when the signature is refused; the API's error handler records it again outside the
    request's savepoint. Those records are what the lockout counts."""
    until = locked_until(actor)
    scope = _step_scope(step_id)
    if until is not None:
        audit_record_now(action=LOCKED_ACTION, actor=actor, subject=actor, **scope,
                         payload={"step": step_id, "locked_until": until})
        raise SigningLocked(_("Too many wrong passwords: signing is locked until %(time)s.")
                            % {"time": date_format(timezone.localtime(until),
                                                   "DATETIME_FORMAT")})
    if actor.check_password(password or ""):
        return
    audit_record_now(action=FAILURE_ACTION, actor=actor, subject=actor, **scope,
                     payload={"step": step_id})
    raise WrongPassword(_("The password is not correct."))


def _step_scope(step_id: int) -> dict:
    """The application and branch a refused signature was for: the event's subject is the
    user (the lockout counts per user), but it belongs in the application's trail too."""
    row = (ApprovalStep.objects.filter(pk=step_id)
           .values_list("route__application_id", "route__application__branch_id",
                        "route__application__enterprise_id").first())
    if row is None:
        return {}
    return {"application_id": row[0], "branch_id": row[1], "enterprise_id": row[2]}


def _validate(step: ApprovalStep, decision: str, reason: str, amount, rate) -> None:
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = _("Choose approve, return or reject.")
    if not reason.strip():
        errors["reason"] = _("Give the reasons for the decision.")
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = _("At most %(max)s characters.") % {"max": REASON_MAX_LENGTH}
    if decision == Decision.APPROVE:
        ceiling, _rate = approved_terms(step.route)
        version = step.route.application.product_version
        if amount is not None and not Decimal("0") < Decimal(amount) <= ceiling:
            errors["amount"] = _("Approve more than zero and at most %(ceiling)s.") % {
                "ceiling": f"{ceiling:,.2f}"}
        if rate is not None and not version.rate_min <= Decimal(rate) <= version.rate_max:
            errors["rate"] = _("The rate must be within the product's range.")
    elif amount is not None or rate is not None:
        errors["amount"] = _("Only an approval sets an amount or rate.")
    if errors:
        raise ValidationError(errors)


def step_sign(*, step_id: int, actor, password: str, decision: str, reason: str,
              amount: Decimal | None = None, rate: Decimal | None = None,
              conditions=()) -> SignOff:
    """Sign an individual step. Everything is checked here, whatever the path (UI, API,
    admin): password, state, segregation of duties, authority level."""
    password_confirm(actor=actor, password=password, step_id=step_id)
    return _step_sign(step_id=step_id, actor=actor, decision=decision, reason=reason,
                      amount=amount, rate=rate, conditions=conditions)


@transaction.atomic
def _step_sign(*, step_id, actor, decision, reason, amount, rate, conditions) -> SignOff:
    application, step = lock_step(step_id)
    if step.kind != StepKind.INDIVIDUAL:  # the wrong endpoint for this kind of step
        raise TransitionConflict(detail=_("A committee step is decided by its members' votes."))
    # Permission (403) before state (409).
    refusal, authority = signing_permission_refusal(step, actor)
    if refusal:
        raise PermissionDenied(refusal)
    if step.state != StepState.WAITING:
        raise TransitionConflict(detail=_("This step has already been decided or is not open "
                                          "yet."))
    _validate(step, decision, reason, amount, rate)
    conditions = _clean_conditions(conditions) if decision == Decision.APPROVE else []
    if decision == Decision.APPROVE and amount is None:
        amount, standing_rate = approved_terms(step.route)
        rate = standing_rate if rate is None else rate
    now = timezone.now()
    content, signature = sign({
        "application": application.reference, "route": step.route_id,
        "round": step.route.round, "step": step.position, "decision": decision,
        "amount": amount, "rate": rate, "conditions": conditions, "reason": reason.strip(),
        "signer": actor.pk, "on_behalf_of": authority.on_behalf_of_id,
        "delegation": authority.delegation_id, "authority_level": authority.level,
        "signed_at": now})
    sign_off = SignOff.objects.create(
        step=step, route=step.route, signer=actor, on_behalf_of_id=authority.on_behalf_of_id,
        delegation_id=authority.delegation_id, authority_level=authority.level,
        decision=decision, amount=amount if decision == Decision.APPROVE else None,
        rate=rate if decision == Decision.APPROVE else None, conditions=conditions,
        reason=reason.strip(), signed_at=now, content=content, signature=signature)
    audit_record(action="approval.signed", actor=actor, subject=step, payload={
        **content, "signature": signature})
    if conditions:
        conditions_add(route=step.route, texts=conditions, actor=actor)
    step_decided(step=step, decision=decision, actor=actor, reason=reason.strip(),
                 amount=amount if decision == Decision.APPROVE else None,
                 rate=rate if decision == Decision.APPROVE else None)
    return sign_off
