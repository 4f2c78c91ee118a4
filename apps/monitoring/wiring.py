"""Where the halves of post-loan monitoring meet, and where monitoring joins the loan page.

Inspections (`inspection_*`) and the risk engine (classification, signals, actions) were built
side by side, each with a registry for the other (`inspection_hooks`, `hooks`). This module
connects them once, from `MonitoringConfig.ready()`:

- a "special check" action (L2/L3, §4.4) asks inspections for a special check on site;
- inspections raise signals: a missed deadline (§4.1: "a missed deadline is itself a
  signal"), funds not used as agreed (W17) and an uncooperative borrower (W18);
- a reviewed inspection's proposed category goes to the classification workflow as an
  officer's proposal (the floor still wins; a second person confirms, §5.3), and its
  requested actions open as monitoring actions (owner, deadline, evidence; §4.2 → §4.4);
- the work list shows inspections due, and the loan page shows the risk panel and the
  inspections (the loan book sits left of monitoring: it offers `register_loan_section`).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.monitoring.inspection_states import RequestedAction
from apps.monitoring.states import ActionKind

logger = logging.getLogger(__name__)

# The catalogue code the risk engine uses for a missed inspection deadline (seeded rule).
INSPECTION_OVERDUE_CODE = "W24"

# The conclusion's requested actions (inspection vocabulary) → the risk engine's action kinds.
REQUESTED_ACTION_KINDS = {
    RequestedAction.CONTACT: ActionKind.CONTACT,
    RequestedAction.SPECIAL_CHECK: ActionKind.SPECIAL_CHECK,
    RequestedAction.STOP_DRAWDOWNS: ActionKind.STOP_DRAWDOWNS,
    RequestedAction.EXTRA_COLLATERAL: ActionKind.EXTRA_COLLATERAL,
    RequestedAction.FREEZE: ActionKind.FREEZE,
    RequestedAction.TRANSFER_TO_WORKOUT: ActionKind.WORKOUT,
}


def special_inspection_for_action(loan, *, due_date: dt.date, reason: str) -> None:
    """`hooks.register_special_inspection` → the inspections service (idempotent per day).

    A bank that has not published a special-check template or its schedule policy still gets
    the signal and the "special check" action (owner, deadline): the check is then done and
    evidenced through the action, and the gap is logged for the policy team."""
    from apps.monitoring.inspection_services import (
        ScheduleNotConfigured,
        inspection_request_special,
    )

    try:
        with transaction.atomic():
            inspection_request_special(loan_id=loan.pk, due_date=due_date, reason=reason)
    except ScheduleNotConfigured as gap:
        logger.warning("special check for loan %s not scheduled: %s", loan.pk, gap)


def special_inspections_for_actions(requests) -> None:
    """`hooks.register_special_inspections` → the batch inspections service (a chunk of the
    monthly run at once; same rows as `special_inspection_for_action` per loan)."""
    from apps.monitoring.inspection_bulk import inspections_request_special

    inspections_request_special(requests=requests)


def signal_from_inspection(*, loan_id: int, code: str, source: str, observed: dict,
                           actor=None) -> None:
    """`inspection_hooks.register_signal_raiser` → `signal_raise` of the risk engine."""
    from apps.monitoring.inspection_hooks import INSPECTION_OVERDUE_SIGNAL
    from apps.monitoring.services.signals import signal_raise

    if code == INSPECTION_OVERDUE_SIGNAL:
        code = INSPECTION_OVERDUE_CODE
    text = ", ".join(f"{key}: {value}" for key, value in sorted(observed.items()))
    signal_raise(loan_id=loan_id, code=code, observed=text[:200], source=source, actor=actor)


def conclusion_to_risk(inspection, *, actor) -> None:
    """A reviewed conclusion feeds the risk engine (inside the review's transaction).

    W17 and W18 come from the answers the conclusion recorded, never retyped. The proposed
    category becomes the officer's proposal for a reviewer to confirm (§5.3) — raised to the
    rules' floor when it is better than the floor (the floor always wins, §4.4), with both
    in the reason — unless it is already the category in force.
    """
    from apps.monitoring.inspection_states import Cooperation
    from apps.monitoring.services.classification import (
        category_in_force,
        classification_propose,
        describe_reasons,
        loan_floor,
    )
    from apps.monitoring.services.signals import signal_raise
    from apps.monitoring.states import Category, rank

    source = f"inspection {inspection.pk}"
    if inspection.funds_used_as_agreed is False:
        signal_raise(loan_id=inspection.loan_id, code="W17", source=source, actor=actor,
                     observed=str(_("funds not used for the agreed purpose")))
    if inspection.cooperation == Cooperation.UNCOOPERATIVE:
        signal_raise(loan_id=inspection.loan_id, code="W18", source=source, actor=actor,
                     observed=str(_("borrower uncooperative during the inspection")))
    # After the signals: a kind their level already opened keeps its (stricter) deadline.
    _open_requested_actions(inspection, source=source, actor=actor)
    proposed = inspection.proposed_class
    if not proposed:
        return
    reason = inspection.class_reason or str(_("Post-loan inspection conclusion"))
    floor = loan_floor(loan_id=inspection.loan_id)
    if floor is not None and rank(proposed) < floor.floor_rank:
        reason = str(_("%(reason)s (the inspection proposed %(proposed)s; the rules put the "
                       "loan at %(floor)s or worse: %(why)s)") % {
            "reason": reason, "proposed": Category(proposed).label,
            "floor": Category(floor.floor).label, "why": describe_reasons(floor.reasons)})
        proposed = floor.floor
    if proposed == category_in_force(inspection.loan_id):
        return
    try:
        with transaction.atomic():
            classification_propose(loan_id=inspection.loan_id, category=proposed,
                                   actor=inspection.officer, reason=reason)
    except ValidationError as refusal:  # e.g. an upgrade without a clean record
        logger.info("inspection %s proposal not taken: %s", inspection.pk, refusal)


def _open_requested_actions(inspection, *, source: str, actor) -> None:
    """The reviewed conclusion's actions become tasks through the action state machine."""
    from apps.monitoring.services.actions import actions_open_requested

    kinds = [REQUESTED_ACTION_KINDS[a] for a in inspection.actions or []]
    if not kinds:
        return
    _opened, gaps = actions_open_requested(loan_id=inspection.loan_id, kinds=kinds,
                                           on=timezone.localdate(), source=source, actor=actor)
    if gaps:
        logger.warning("inspection %s: no deadline policy for actions %s", inspection.pk, gaps)


def inspections_worklist_block(request) -> dict | None:
    from apps.monitoring.inspection_views import inspections_due_context

    return {"template": "monitoring/partials/inspections_due.html",
            "context": inspections_due_context(request)}


def inspections_loan_block(loan, viewer) -> dict | None:
    from apps.monitoring.inspection_views import inspection_panel_context

    return {"template": "monitoring/partials/inspection_panel.html",
            "context": inspection_panel_context(viewer=viewer, loan=loan)}


def risk_loan_section(request, loan) -> dict:
    """The loan page's monitoring section: the risk panel, with the inspections inside it."""
    from apps.monitoring.selectors import loan_panel_context

    return loan_panel_context(loan=loan, viewer=request.user)


def connect() -> None:
    from apps.loans.sections import register_loan_section
    from apps.monitoring import hooks, inspection_hooks

    hooks.register_special_inspections(special_inspections_for_actions)
    inspection_hooks.register_signal_raiser(signal_from_inspection)
    inspection_hooks.register_conclusion_listener(conclusion_to_risk)
    hooks.register_worklist_block(inspections_worklist_block)
    hooks.register_loan_panel_block(inspections_loan_block)
    register_loan_section(key="monitoring", template="monitoring/partials/loan_section.html",
                          context=risk_loan_section)
