"""Re-verification of accepted investigations (domain reference §3.4: the risk side calls
back or revisits a sample, e.g. 5% [G]; results feed officer quality, §4.5). Most are drawn at
random on acceptance (below); a team lead may also ask for one on a file he doubts
(`reverification_request`).

The draw is deterministic per investigation: an HMAC of the investigation id under the
installation's secret key gives a number in [0, 1), compared with the policy sample rate. The
same file always gets the same draw (re-running acceptance after a reopen does not re-roll the
dice, and a test can predict it), yet officers, who do not know the key, cannot.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, Q, QuerySet, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import may_attempt, transition_check
from apps.investigations.controls.policies import need
from apps.investigations.models import Investigation, ReVerification
from apps.investigations.states import (
    ReVerificationMethod,
    ReVerificationOutcome,
    ReVerificationState,
)

_SCALE = Decimal(2) ** 64


def reverification_draw(investigation_id: int) -> Decimal:
    """A number in [0, 1), fixed for the investigation, unpredictable without SECRET_KEY."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"reverify:{investigation_id}".encode(),
                      hashlib.sha256).digest()
    return (Decimal(int.from_bytes(digest[:8], "big")) / _SCALE).quantize(Decimal("0.000001"))


def _team_lead_for(investigation: Investigation) -> User | None:
    """A team lead of the file's branch who did not investigate it; among several, the draw
    picks one, so the choice is repeatable and not the officers' to make."""
    leads = list(User.objects.filter(is_active=True, branch_id=investigation.application.branch_id,
                                     groups__name=Role.TEAM_LEAD)
                 .exclude(pk__in=investigation.officer_ids).order_by("pk").distinct())
    if not leads:
        return None
    index = int(reverification_draw(-investigation.pk) * len(leads))
    return leads[index]


def reverification_sample(*, investigation: Investigation, policy) -> ReVerification | None:
    """Called inside the acceptance transaction: open a re-verification when the draw falls
    under the policy rate. Once per investigation (a reopened and re-accepted file keeps the
    first decision)."""
    if ReVerification.objects.filter(investigation=investigation).exists():
        return None
    rate = need(policy, "control.reverify.sample_rate")
    draw = reverification_draw(investigation.pk)
    if draw >= rate:
        return None
    lead = _team_lead_for(investigation)
    reverification = ReVerification.objects.create(investigation=investigation, assigned_to=lead,
                                                   sample_rate=rate, draw=draw)
    audit_record(action="reverification.opened", actor=None, subject=reverification,
                 payload={"investigation": investigation.pk, "sample_rate": str(rate),
                          "draw": str(draw), "assigned_to": lead.pk if lead else None})
    return reverification


@transaction.atomic
def reverification_request(*, investigation_id: int, actor, reason: str) -> ReVerification:
    """A team lead asks for an accepted investigation to be re-verified, and does it himself
    (§3.4; the random sample covers the rest). Checked: a team lead who did not investigate
    the file (the transition's `permission=`, 403), of the file's branch (403), the
    investigation accepted (409), none opened yet for it (409: one per investigation, drawn
    or asked for), and a reason (400)."""
    # Lock the investigation first: two leads asking at once must open one, not two.
    investigation = (Investigation.objects.select_for_update(no_key=True, of=("self",))
                     .select_related("application").get(pk=investigation_id))
    transition_check(investigation.request_reverification, actor=actor)
    branch_ids = visible_branch_ids(viewer=actor)
    application = investigation.application
    if branch_ids is not None and application.branch_id not in branch_ids:
        raise PermissionDenied(_("This record belongs to another branch."))
    existing = ReVerification.objects.filter(investigation=investigation).first()
    if existing is not None:
        raise TransitionConflict(detail=_("This investigation already has a re-verification "
                                          "(%(state)s).") % {
            "state": existing.get_state_display()})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the file should be re-verified.")})
    investigation.request_reverification()  # stays accepted; nothing to save on it
    reverification = ReVerification.objects.create(
        investigation=investigation, assigned_to=actor, requested_by=actor, reason=reason)
    audit_record(action="reverification.requested", actor=actor, subject=reverification,
                 application_id=application.pk, branch_id=application.branch_id,
                 payload={"investigation": investigation.pk, "reason": reason,
                          "assigned_to": actor.pk,
                          "officers": sorted(investigation.officer_ids)})
    return reverification


def may_request_reverification(*, viewer, investigation: Investigation) -> bool:
    """Whether to offer the request button: the move is open to the viewer and the file has
    no re-verification yet (a hint; `reverification_request` checks everything again)."""
    return (may_attempt(investigation.request_reverification, actor=viewer)
            and not ReVerification.objects.filter(investigation=investigation).exists())


@transaction.atomic
def reverification_complete(*, reverification_id: int, actor, outcome: str, notes: str,
                            method: str) -> ReVerification:
    """The assigned team lead records the re-visit or call-back: how it was done, and
    confirmed or discrepancies found (which need notes saying what)."""
    reverification = (ReVerification.objects.select_for_update(no_key=True, of=("self",))
                      .select_related("investigation__application").get(pk=reverification_id))
    transition_check(reverification.complete, actor=actor)
    branch_ids = visible_branch_ids(viewer=actor)
    if branch_ids is not None and \
            reverification.investigation.application.branch_id not in branch_ids:
        raise PermissionDenied(_("This record belongs to another branch."))
    notes = (notes or "").strip()
    errors = {}
    if outcome not in ReVerificationOutcome.values:
        errors["outcome"] = _("Choose confirmed or discrepancies found.")
    if outcome == ReVerificationOutcome.DISCREPANCIES and not notes:
        errors["notes"] = _("Say what did not match.")
    if method not in ReVerificationMethod.values:
        errors["method"] = _("Choose re-visit or call-back.")
    if errors:
        raise ValidationError(errors)
    reverification.complete(outcome=outcome, notes=notes, at=timezone.now(), how=method)
    reverification.save()
    investigation = reverification.investigation
    audit_record(action="reverification.completed", actor=actor, subject=reverification,
                 payload={"investigation": investigation.pk, "outcome": outcome,
                          "method": method, "notes": notes,
                          "officers": sorted(investigation.officer_ids)})
    return reverification


def reverification_list(*, viewer) -> QuerySet[ReVerification]:
    """Re-verifications of the viewer's branches (a team lead's to-do list starts here)."""
    queryset = ReVerification.objects.select_related("investigation__application",
                                                     "assigned_to")
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        queryset = queryset.filter(investigation__application__branch_id__in=branch_ids)
    return queryset


# Who may read re-verifications and the per-officer outcomes besides the assigned team lead:
# supervisors and the risk side (§4.5 officer quality). The officers themselves are not
# among them: a call-back they can see coming is no longer a check.
REVERIFICATION_READERS = (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER,
                          Role.COMMITTEE_MEMBER, Role.AUDITOR, Role.ADMIN)


def may_read_reverifications(viewer) -> bool:
    return bool(viewer.is_authenticated
                and (viewer.is_superuser or viewer.has_role(*REVERIFICATION_READERS)))


def reverification_visible(*, viewer) -> QuerySet[ReVerification]:
    """What the viewer may open: those assigned to them, and (readers) their branches'."""
    if not viewer.is_authenticated:
        return ReVerification.objects.none()
    queryset = reverification_list(viewer=viewer).select_related(
        "investigation__application__enterprise", "investigation__lead_officer",
        "investigation__assisting_officer")
    if may_read_reverifications(viewer):
        return queryset
    return queryset.filter(assigned_to=viewer)


def reverification_get(*, viewer, reverification_id: int) -> ReVerification:
    """404, not 403, for one the viewer may not see: existence not revealed."""
    return get_object_or_404(reverification_visible(viewer=viewer), pk=reverification_id)


def reverifications_assigned(*, viewer) -> QuerySet[ReVerification]:
    """The team lead's to-do list: open ones first (oldest first, they have waited longest),
    then the done ones, latest first."""
    return (reverification_visible(viewer=viewer).filter(assigned_to=viewer)
            .order_by(Case(When(state=ReVerificationState.OPEN, then=0), default=1),
                      "created_at", "-completed_at", "pk"))


def reverification_for_investigation(*, viewer, investigation) -> ReVerification | None:
    """The investigation's re-verification, for a reader or its assignee; None otherwise."""
    return reverification_visible(viewer=viewer).filter(investigation=investigation).first()


def officer_reverification_outcomes(*, viewer) -> list[dict]:
    """Per officer (lead or assisting): re-verifications open, confirmed and with
    discrepancies, over what the viewer may see (§4.5 officer quality). One query per role."""
    done = ReVerificationState.DONE
    counts = {
        "open": Count("pk", filter=Q(state=ReVerificationState.OPEN)),
        "confirmed": Count("pk", filter=Q(state=done,
                                          outcome=ReVerificationOutcome.CONFIRMED)),
        "discrepancies": Count("pk", filter=Q(state=done,
                                              outcome=ReVerificationOutcome.DISCREPANCIES)),
    }
    totals: dict[int, dict] = {}
    for field in ("investigation__lead_officer", "investigation__assisting_officer"):
        for row in (reverification_list(viewer=viewer).order_by().values(field)
                    .annotate(**counts)):
            officer = totals.setdefault(row[field], {"officer_id": row[field], "open": 0,
                                                     "confirmed": 0, "discrepancies": 0})
            for key in ("open", "confirmed", "discrepancies"):
                officer[key] += row[key]
    return sorted(totals.values(), key=lambda r: r["officer_id"])


def officer_outcome_rows(*, viewer) -> list[dict]:
    """The per-officer counts with each officer (one extra query for all of them)."""
    rows = officer_reverification_outcomes(viewer=viewer)
    people = User.objects.in_bulk([row["officer_id"] for row in rows])
    return [{**row, "officer": people.get(row["officer_id"])} for row in rows]
