"""Five-category classification of one loan (§5.3): 初分 (proposal) → 认定 (a reviewer,
not the proposer) → 审批 (an approver one level up, for upgrades) → in force.

The floor always wins: a proposal better than the loan's rule floor is refused with the
floor's reasons, at proposal and again at confirmation (the floor may have moved). An
upgrade (better than the category in force) also needs a clean record: no days past due
for the policy's months."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.fsm import transition_check
from apps.loans.models import Loan, ScheduleInstalment
from apps.monitoring import dialect
from apps.monitoring.floors import LoanFloor, add_months, loan_floors
from apps.monitoring.models import Classification, LoanRestructuring, LoanRiskStatus
from apps.monitoring.permissions import may_propose_classification
from apps.monitoring.policy import K, Policy
from apps.monitoring.services.audit import audit_loan_event
from apps.monitoring.states import (
    Category,
    ClassificationState,
    ProposalSource,
    rank,
)


def loan_floor(*, loan_id: int, on: dt.date | None = None,
               policy: Policy | None = None) -> LoanFloor | None:
    """The floor of one open loan today (None for a closed loan)."""
    on = on or timezone.localdate()
    found = loan_floors(first_id=loan_id, last_id=loan_id, as_of=on,
                        policy=policy or Policy(on=on))
    return found[0] if found else None


def unclean_loan_ids(*, loan_ids, on: dt.date, months: int) -> set[int]:
    """Loans with any day past due in the last `months` months (today included): the
    change point in force at the window's start, or any change point after it."""
    loan_ids = list(loan_ids)
    if not loan_ids:
        return set()
    start = add_months(on, -months)
    sql = f"""
    SELECT DISTINCT d.loan_id FROM loans_loandpd d
    WHERE {dialect.in_ids("d.loan_id", "ids")} AND (d.dpd_principal > 0 OR d.dpd_interest > 0)
      AND (d.as_of > %(start)s OR d.as_of = (SELECT MAX(p.as_of) FROM loans_loandpd p
                                             WHERE p.loan_id = d.loan_id AND p.as_of <= %(start)s))
    UNION
    SELECT id FROM loans_loan
    WHERE {dialect.in_ids("id", "ids")} AND (dpd_principal > 0 OR dpd_interest > 0)
    """  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": dialect.id_list(loan_ids), "start": start})
        return {row[0] for row in cursor.fetchall()}


def category_in_force(loan_id: int) -> str:
    status = LoanRiskStatus.objects.filter(loan_id=loan_id).values_list("category",
                                                                        flat=True).first()
    return status or Category.NORMAL


def _floor_refusal(floor: LoanFloor, category: str) -> ValidationError:
    return ValidationError({"category": _(
        "The rules put this loan at %(floor)s or worse (%(why)s); it cannot be classified "
        "%(category)s.") % {"floor": Category(floor.floor).label,
                            "why": describe_reasons(floor.reasons),
                            "category": Category(category).label}})


def describe_reasons(reasons: list[dict]) -> str:
    """The floor's reasons as a sentence, in the active language."""
    words = []
    for reason in reasons:
        rule = reason.get("rule")
        if rule == "dpd":
            words.append(_("%(days)s days past due") % {"days": reason["observed"]})
        elif rule == "restructured":
            words.append(_("restructured on %(day)s, observed until %(until)s") % {
                "day": reason["observed"], "until": reason["until"]})
        elif rule == "signal":
            words.append(_("an open level %(level)s warning") % {"level": reason["observed"]})
        elif rule == "cross_default":
            words.append(_("%(share)s of the borrower's claims are non-performing") % {
                "share": f"{float(reason['observed']):.0%}"})
    return "; ".join(words) or _("no rule applies")


def _check_upgrade(loan: Loan, policy: Policy, on: dt.date) -> None:
    months = policy.integer(K.UPGRADE_CLEAN_MONTHS)
    if loan.pk in unclean_loan_ids(loan_ids=[loan.pk], on=on, months=months):
        raise ValidationError({"category": _(
            "An upgrade needs a clean record: no days past due in the last %(months)d months.")
            % {"months": months}})


@transaction.atomic
def classification_propose(*, loan_id: int, category: str, reason: str, actor) -> Classification:
    """An officer proposes a category with a reason (初分). Worse than the floor: always
    allowed. Better than the floor: refused. Better than the category in force (an upgrade):
    only with a clean record, and it will need approval after confirmation."""
    loan = Loan.objects.select_for_update(no_key=True, of=("self",)).get(pk=loan_id)
    if not may_propose_classification(loan, actor):
        raise PermissionDenied(_("You may not classify loans of this branch."))
    if category not in Category.values:
        raise ValidationError({"category": _("Choose one of the five categories.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the proposed category.")})
    on = timezone.localdate()
    policy = Policy(on=on)
    floor = loan_floor(loan_id=loan.pk, on=on, policy=policy)
    if floor is None:
        raise ValidationError({"loan": _("Only loans still on the book are classified.")})
    if rank(category) < floor.floor_rank:
        raise _floor_refusal(floor, category)
    current = category_in_force(loan.pk)
    if category == current:
        raise ValidationError({"category": _("This is already the category in force.")})
    upgrade = rank(category) < rank(current)
    if upgrade:
        _check_upgrade(loan, policy, on)
    return _proposal_create(loan=loan, category=category, previous=current, floor=floor,
                            reason=reason.strip(), actor=actor, source=ProposalSource.OFFICER,
                            upgrade=upgrade, policy=policy)


def _proposal_create(*, loan, category, previous, floor: LoanFloor, reason, actor, source,
                     upgrade, policy: Policy, run=None) -> Classification:
    for open_one in Classification.objects.select_for_update(no_key=True).filter(
            loan=loan, state__in=[ClassificationState.PROPOSED, ClassificationState.CONFIRMED]):
        open_one.supersede()
        open_one.save()
    proposal = Classification.objects.create(
        loan=loan, branch_id=loan.branch_id, category=category, previous_category=previous,
        floor=floor.floor, floor_reasons=floor.reasons, is_upgrade=upgrade, source=source,
        proposed_by=actor, reason=reason, run=run, policy_versions=dict(policy.used))
    audit_loan_event(action="classification.proposed", actor=actor, subject=proposal, loan=loan,
                     payload={"loan": loan.loan_number, "category": category,
                              "previous": previous, "floor": floor.floor, "reason": reason,
                              "upgrade": upgrade, "policy": dict(policy.used)})
    return proposal


def _locked(classification_id: int) -> Classification:
    return (Classification.objects.select_for_update(no_key=True, of=("self",))
            .select_related("loan")
            .get(pk=classification_id))


def _supersede_in_force(proposal: Classification) -> None:
    """The previous category in force steps down first (one in force per loan)."""
    for old in Classification.objects.select_for_update(no_key=True).filter(
            loan_id=proposal.loan_id, state=ClassificationState.IN_FORCE).exclude(
            pk=proposal.pk):
        old.supersede()
        old.save()


def _put_in_force(proposal: Classification) -> None:
    """The loan's status follows the category now in force."""
    LoanRiskStatus.objects.update_or_create(loan_id=proposal.loan_id,
                                            defaults={"category": proposal.category})


@transaction.atomic
def classification_confirm(*, classification_id: int, actor, note: str = "") -> Classification:
    """认定 by a reviewer other than the proposer. The floor is checked again: if the loan's
    floor is now worse than the proposal, the proposal is refused. A downgrade or first
    classification is then in force; an upgrade waits for an approver."""
    proposal = _locked(classification_id)
    transition = proposal.confirm_upgrade if proposal.is_upgrade else proposal.confirm
    transition_check(transition, actor=actor)
    on = timezone.localdate()
    policy = Policy(on=on)
    floor = loan_floor(loan_id=proposal.loan_id, on=on, policy=policy)
    if floor is not None and rank(proposal.category) < floor.floor_rank:
        raise _floor_refusal(floor, proposal.category)
    if proposal.is_upgrade:
        _check_upgrade(proposal.loan, policy, on)
    transition(by=actor, at=timezone.now(), note=(note or "").strip())
    if proposal.state == ClassificationState.IN_FORCE:
        _supersede_in_force(proposal)
    proposal.save()
    if proposal.state == ClassificationState.IN_FORCE:
        _put_in_force(proposal)
    audit_loan_event(action="classification.confirmed", actor=actor, subject=proposal,
                     loan=proposal.loan, payload={"category": proposal.category,
                                                  "upgrade": proposal.is_upgrade,
                                                  "note": proposal.decision_note})
    return proposal


@transaction.atomic
def classification_approve(*, classification_id: int, actor, note: str = "") -> Classification:
    """审批 of a confirmed upgrade, by an approver who neither proposed nor confirmed it;
    floor and clean record checked once more."""
    proposal = _locked(classification_id)
    transition_check(proposal.approve, actor=actor)
    on = timezone.localdate()
    policy = Policy(on=on)
    floor = loan_floor(loan_id=proposal.loan_id, on=on, policy=policy)
    if floor is not None and rank(proposal.category) < floor.floor_rank:
        raise _floor_refusal(floor, proposal.category)
    _check_upgrade(proposal.loan, policy, on)
    proposal.approve(by=actor, at=timezone.now(), note=(note or "").strip())
    _supersede_in_force(proposal)
    proposal.save()
    _put_in_force(proposal)
    audit_loan_event(action="classification.approved", actor=actor, subject=proposal,
                     loan=proposal.loan, payload={"category": proposal.category})
    return proposal


@transaction.atomic
def classification_reject(*, classification_id: int, actor, note: str) -> Classification:
    """The reviewer (or, for a confirmed upgrade, the approver) turns the proposal down."""
    proposal = _locked(classification_id)
    transition_check(proposal.reject, actor=actor)
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why the proposal is rejected.")})
    proposal.reject(by=actor, at=timezone.now(), note=note.strip())
    proposal.save()
    audit_loan_event(action="classification.rejected", actor=actor, subject=proposal,
                     loan=proposal.loan, payload={"category": proposal.category,
                                                  "note": proposal.decision_note})
    return proposal


@transaction.atomic
def loan_restructuring_record(*, loan_id: int, restructured_on: dt.date, source: str,
                              actor=None) -> LoanRestructuring:
    """Record when a loan was restructured: its observation period starts then. The loan
    book's restructure service may call this; the monthly run calls it for restructured
    loans it finds without a date."""
    loan = Loan.objects.get(pk=loan_id)
    row, created = LoanRestructuring.objects.get_or_create(
        loan=loan, restructured_on=restructured_on, defaults={"source": source})
    if created:
        audit_loan_event(action="loan_restructuring.recorded", actor=actor, subject=row,
                         loan=loan, payload={"loan": loan.loan_number,
                                             "restructured_on": str(restructured_on),
                                             "source": source})
    return row


def restructuring_days(loan_ids) -> set[tuple[int, dt.date]]:
    """(loan, day) of every restructuring the loan book holds: the first day in force of
    each schedule version after the first (a local business day, as the restructure service
    wrote it), up to the loan's current version."""
    from django.db.models import F

    return set(ScheduleInstalment.objects.filter(
        loan_id__in=loan_ids, version__gt=1, version__lte=F("loan__schedule_version"))
        .values_list("loan_id", "effective_from").distinct())


def loan_restructurings_record(*, loan_id: int) -> list[dt.date]:
    """Record every restructuring of the loan the loan book holds (each with its own day;
    a second restructuring is a second row). Idempotent: the task the loan book's restructure
    sends after it commits; the monthly run catches a lost one. Returns the days."""
    days = sorted(day for _loan, day in restructuring_days([loan_id]))
    for day in days:
        loan_restructuring_record(loan_id=loan_id, restructured_on=day, source="loan book")
    return days
