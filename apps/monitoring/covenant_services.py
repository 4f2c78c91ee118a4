"""Writes for loan covenants and annual reviews (domain reference §6.3, §4.1): scheduling from
policy, the officer's submission with evidence, the second person's decision, and the daily
sweep's reminders, overdue marking and escalation to the branch head.

Every service is one transaction: lock → permission → state → change → save → audit scoped
to the loan and branch (CONVENTIONS §3). Scheduling is idempotent: unique (covenant, due
date) and (loan, year) rows, created under the loan's row lock. A confirmed breach raises
signal W25 and a missed due date W26 through `signal_raise`, so the level → mandatory
actions flow of the risk engine applies unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError, TransitionConflict
from apps.core.fsm import transition_check
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring.covenant_models import (
    AnnualReview,
    Covenant,
    CovenantCheck,
    MonitoringNotice,
)
from apps.monitoring.covenant_policy import (
    CK,
    add_months,
    next_anniversary,
    next_check_due,
    read,
)
from apps.monitoring.covenant_states import (
    OPEN_CHECK_STATES,
    OPEN_REVIEW_STATES,
    AnnualReviewState,
    CovenantCheckState,
    CovenantKind,
    CovenantResult,
    CovenantSource,
    NoticeKind,
    ReviewOutcome,
)
from apps.monitoring.permissions import may_work_loan
from apps.monitoring.policy import MissingPolicy, Policy
from apps.monitoring.services.audit import audit_loan_event

logger = logging.getLogger(__name__)

BREACH_CODE, OVERDUE_CODE = "W25", "W26"  # catalogue codes (seeded rules, §4.3)
TEXT_MAX = 4000


class CovenantPolicyMissing(DomainError):
    """A schedule policy value is not in force: nothing is scheduled on a guess (HTTP 409)."""

    code = "policy_not_configured"
    status_code = 409


def _policy_gap(exc: MissingPolicy) -> CovenantPolicyMissing:
    return CovenantPolicyMissing(_("The covenant schedule cannot be computed: policy value "
                                   "%(key)s is not in force.") % {"key": exc.key})


def _lock_loan(loan_id: int) -> Loan:
    return Loan.objects.select_for_update(no_key=True, of=("self",)).get(pk=loan_id)


# --- scheduling -------------------------------------------------------------------------------


def _schedule_check(covenant: Covenant, loan: Loan, *, today: dt.date, policy: Policy,
                    actor=None) -> CovenantCheck | None:
    """The covenant's next check, unless one is still open or submitted (one at a time, as
    routine inspections), or the next date falls after maturity."""
    if not covenant.active or covenant.checks.exclude(
            state__in=(CovenantCheckState.ACCEPTED, CovenantCheckState.BREACHED,
                       CovenantCheckState.CANCELLED)).exists():
        return None
    last = covenant.checks.order_by("-due_date").first()
    basis: dict = {}
    months = read(policy, CK.frequency(covenant.kind), basis)
    if months <= 0 and last is not None and last.state != CovenantCheckState.CANCELLED:
        return None  # a one-off covenant is tested once (a waived test is owed after it)
    one_off = read(policy, CK.ONE_OFF_DAYS, basis) if months <= 0 else None
    anchor = last.due_date if last is not None else covenant.starts_on
    not_before = (max(today, covenant.starts_on) if last is None
                  else anchor + dt.timedelta(days=1))
    if covenant.waived_until is not None:
        # Nothing is owed for a waived period: the next test falls after its last day.
        not_before = max(not_before, covenant.waived_until + dt.timedelta(days=1))
    due = next_check_due(anchor=anchor, months=months, one_off_days=one_off,
                         not_before=not_before)
    if due > loan.maturity_date:
        return None
    basis["anchor"] = {"value": anchor.isoformat()}
    check, created = CovenantCheck.objects.get_or_create(
        covenant=covenant, due_date=due,
        defaults={"loan": loan, "branch_id": loan.branch_id, "policy_basis": basis})
    if created:
        audit_loan_event(action="covenant_check.scheduled", actor=actor, subject=check,
                         loan=loan, payload={"covenant": covenant.pk, "kind": covenant.kind,
                                             "due_date": due.isoformat(), "policy": basis})
    return check if created else None


def schedule_next_check(covenant: Covenant, *, today: dt.date, actor=None) -> None:
    """The covenant's next check after a waiver lapsed (caller holds the loan's lock); a
    policy gap is logged and left to the next daily sweep, never a guessed date."""
    try:
        with transaction.atomic():
            _schedule_check(covenant, covenant.loan, today=today, policy=Policy(on=today),
                            actor=actor)
    except MissingPolicy as exc:
        logger.warning("next check of covenant %s not scheduled: %s", covenant.pk, exc)


def covenants_from_contract(loan: Loan, *, actor=None) -> list[Covenant]:
    """Copy the signed contract's covenants (the approvers' conditions, §6.3) onto the loan,
    once each (`contract:<position>`); tested from the value date. The contract records
    them as text, so their kind is "other" until an officer records a typed one."""
    created = []
    for position, entry in enumerate((loan.contract.conditions or {}).get("covenants") or []):
        text = (entry.get("text") if isinstance(entry, dict) else str(entry or "")).strip()
        if not text:
            continue
        covenant, was_created = Covenant.objects.get_or_create(
            loan=loan, source_ref=f"contract:{position}",
            defaults={"branch_id": loan.branch_id, "kind": CovenantKind.OTHER, "text": text,
                      "source": CovenantSource.CONTRACT, "starts_on": loan.value_date})
        if was_created:
            created.append(covenant)
            audit_loan_event(action="covenant.recorded", actor=actor, subject=covenant,
                             loan=loan, payload={"source": covenant.source, "text": text,
                                                 "kind": covenant.kind})
    return created


def _schedule_review(loan: Loan, *, today: dt.date, policy: Policy, actor=None
                     ) -> AnnualReview | None:
    """The review before the next anniversary of the value date (one per loan year), after
    back-filling the latest missed one (`_backfill_review`)."""
    backfilled = _backfill_review(loan, today=today, policy=policy, actor=actor)
    found = next_anniversary(value_date=loan.value_date, maturity=loan.maturity_date,
                             today=today)
    if found is None:
        return backfilled
    year, anniversary = found
    return _create_review(loan, year=year, anniversary=anniversary, policy=policy,
                          actor=actor) or backfilled


def _create_review(loan: Loan, *, year: int, anniversary: dt.date, policy: Policy, actor=None,
                   backfilled: bool = False) -> AnnualReview | None:
    basis: dict = {}
    lead = read(policy, CK.REVIEW_LEAD_DAYS, basis)
    due = anniversary - dt.timedelta(days=lead)
    if backfilled:
        basis["backfilled"] = {"value": "true"}
    review, created = AnnualReview.objects.get_or_create(
        loan=loan, year=year, defaults={"branch_id": loan.branch_id, "due_date": due,
                                        "anniversary": anniversary, "policy_basis": basis})
    if created:
        audit_loan_event(action="annual_review.scheduled", actor=actor, subject=review,
                         loan=loan, payload={"year": year, "anniversary": anniversary.isoformat(),
                                             "due_date": due.isoformat(), "policy": basis,
                                             "backfilled": backfilled})
    return review if created else None


def _backfill_review(loan: Loan, *, today: dt.date, policy: Policy, actor=None
                     ) -> AnnualReview | None:
    """A loan whose last anniversary passed with no review of that loan year (booked late,
    or its schedule message lost) gets that one review, once: it is already past its due
    date, so the same run marks it overdue, raises W26 and escalates it to the branch head
    (§4.1 "a missed deadline is itself a signal … escalated"). Only the latest missed year:
    older years would repeat the same signal and escalation for one gap."""
    latest = None
    year = 1
    while True:
        day = add_months(loan.value_date, 12 * year)
        if day >= today or day >= loan.maturity_date:
            break
        latest, year = (year, day), year + 1
    if latest is None or AnnualReview.objects.filter(loan=loan, year__gte=latest[0]).exists():
        return None
    return _create_review(loan, year=latest[0], anniversary=latest[1], policy=policy,
                          actor=actor, backfilled=True)


@transaction.atomic
def covenant_schedule_generate(*, loan_id: int, today: dt.date | None = None,
                               actor=None) -> dict[str, int]:
    """Record the contract's covenants and schedule each active covenant's next check and
    the next annual review, from the policy in force today. Idempotent."""
    loan = _lock_loan(loan_id)
    if loan.state not in OPEN_LOAN_STATES:
        return {"covenants": 0, "checks": 0, "reviews": 0}
    from apps.monitoring.covenant_change_services import covenant_changes_due

    today = today or timezone.localdate()
    policy = Policy(on=today)
    covenants = covenants_from_contract(loan, actor=actor)
    # Approved changes due today, and lapsed waivers, before anything is scheduled: an
    # ended covenant gets no new check.
    changed = covenant_changes_due(loan_id=loan.pk, today=today)
    checks = reviews = 0
    try:
        for covenant in Covenant.objects.filter(loan=loan, active=True):
            checks += _schedule_check(covenant, loan, today=today, policy=policy,
                                      actor=actor) is not None
        reviews += _schedule_review(loan, today=today, policy=policy, actor=actor) is not None
    except MissingPolicy as exc:
        raise _policy_gap(exc) from None
    if any(changed.values()):
        logger.info("covenant changes for loan %s: %s", loan.pk, changed)
    return {"covenants": len(covenants), "checks": checks, "reviews": reviews}


@transaction.atomic
def covenant_add(*, loan_id: int, actor, kind: str, text: str) -> Covenant:
    """A post-loan officer records a covenant (e.g. one the contract states in prose, now
    typed) and its first check is scheduled from the policy frequency of its kind."""
    loan = _lock_loan(loan_id)
    if not may_work_loan(loan, actor):
        raise PermissionDenied(_("Only a post-loan officer of the loan's branch adds "
                                 "covenants."))
    if loan.state not in OPEN_LOAN_STATES:
        raise TransitionConflict(detail=_("The loan is closed: no covenant can be added."))
    errors = {}
    if kind not in CovenantKind.values:
        errors["kind"] = [_("Choose a kind from the list.")]
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("Write the covenant as the contract states it.")]
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    covenant = Covenant.objects.create(
        loan=loan, branch_id=loan.branch_id, kind=kind, text=text[:TEXT_MAX],
        source=CovenantSource.OFFICER, source_ref=f"officer:{uuid.uuid4().hex}",
        added_by=actor, starts_on=today)
    audit_loan_event(action="covenant.recorded", actor=actor, subject=covenant, loan=loan,
                     payload={"source": covenant.source, "kind": kind, "text": covenant.text})
    try:
        _schedule_check(covenant, loan, today=today, policy=Policy(on=today), actor=actor)
    except MissingPolicy as exc:
        raise _policy_gap(exc) from None
    return covenant


# --- the officer's submission and the second person's decision ----------------------------------


def _lock_check(check_id: int) -> CovenantCheck:
    return (CovenantCheck.objects.select_for_update(no_key=True, of=("self",))
            .select_related("loan", "covenant").get(pk=check_id))


def _lock_review(review_id: int) -> AnnualReview:
    return (AnnualReview.objects.select_for_update(no_key=True, of=("self",))
            .select_related("loan").get(pk=review_id))


def _evidence(loan: Loan, *, note: str, document_ids) -> tuple[str, list[int]]:
    """The note is required; cited documents must belong to the loan's file."""
    from apps.documents.models import Document

    errors = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Describe what you checked and what you found.")]
    ids = sorted({int(i) for i in document_ids or []})
    if ids:
        found = set(Document.objects.filter(pk__in=ids, application_id=loan.application_id)
                    .values_list("pk", flat=True))
        if found != set(ids):
            errors["document_ids"] = [_("Cite documents of this loan's file only.")]
    if errors:
        raise ValidationError(errors)
    return note[:TEXT_MAX], ids


def overdue_resolved(loan: Loan) -> None:
    """Once nothing of the loan is overdue any more, W26 no longer holds: close it with a
    note (as the run resolves a signal it no longer observes)."""
    from apps.monitoring.services.signals import LoanObservation, signals_apply

    if (CovenantCheck.objects.filter(loan=loan, state=CovenantCheckState.OVERDUE).exists()
            or AnnualReview.objects.filter(loan=loan, state=AnnualReviewState.OVERDUE).exists()):
        return
    signals_apply(observations=[LoanObservation(
        loan=loan, code=OVERDUE_CODE, level=0, observed=_("all submitted"),
        source="covenant checks")], on=timezone.localdate())


@transaction.atomic
def covenant_check_submit(*, check_id: int, actor, result: str, note: str,
                          document_ids=()) -> CovenantCheck:
    """The officer records the test's result with its evidence (late submissions allowed)."""
    check = _lock_check(check_id)
    transition_check(check.submit, actor=actor)
    if result not in CovenantResult.values:
        raise ValidationError({"result": [_("Say whether the covenant was complied with.")]})
    note, ids = _evidence(check.loan, note=note, document_ids=document_ids)
    source = check.state
    check.submit(by=actor, at=timezone.now(), result=result, note=note, documents=ids)
    check.save()
    audit_loan_event(action="covenant_check.submitted", actor=actor, subject=check,
                     loan=check.loan, payload={"from": source, "result": result, "note": note,
                                               "documents": ids,
                                               "on_time": check.done_on_time})
    _notices_done(check)
    if source == CovenantCheckState.OVERDUE:
        overdue_resolved(check.loan)
    return check


def _notices_done(item) -> None:
    """Submitted: its reminders and escalations leave the recipients' work lists (kept, with
    the time, as the record of who was told)."""
    MonitoringNotice.objects.filter(subject=_subject(item), read_at__isnull=True).update(
        read_at=timezone.now())


def _decision_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": [_("Say why.")]})
    return note[:TEXT_MAX]


@transaction.atomic
def covenant_check_accept(*, check_id: int, actor, note: str = "") -> CovenantCheck:
    """A second person confirms the covenant was complied with; the next check follows."""
    check = _lock_check(check_id)
    transition_check(check.accept, actor=actor)
    check.accept(by=actor, at=timezone.now(), note=_decision_note(note, required=False))
    check.save()
    audit_loan_event(action="covenant_check.accepted", actor=actor, subject=check,
                     loan=check.loan, payload={"note": check.decision_note})
    _next_check(check, actor=actor)
    return check


@transaction.atomic
def covenant_check_breach(*, check_id: int, actor, note: str) -> CovenantCheck:
    """A second person confirms a breach, with the reason: signal W25 (level 2) is raised,
    which opens the level's mandatory actions (§6.3 "a breach raises a signal")."""
    from apps.monitoring.services.signals import signal_raise

    check = _lock_check(check_id)
    transition_check(check.confirm_breach, actor=actor)
    check.confirm_breach(by=actor, at=timezone.now(), note=_decision_note(note, required=True))
    check.save()
    audit_loan_event(action="covenant_check.breached", actor=actor, subject=check,
                     loan=check.loan, payload={"note": check.decision_note,
                                               "covenant": check.covenant_id})
    signal_raise(loan_id=check.loan_id, code=BREACH_CODE, source=f"covenant check {check.pk}",
                 observed=check.covenant.text[:200], baseline=check.note[:200], actor=actor)
    _next_check(check, actor=actor)
    return check


def _next_check(check: CovenantCheck, *, actor) -> None:
    """A decided check makes way for the covenant's next one; a policy gap does not undo the
    decision (the daily sweep schedules it once the policy is in force)."""
    try:
        with transaction.atomic():
            _schedule_check(check.covenant, check.loan, today=timezone.localdate(),
                            policy=Policy(), actor=actor)
    except MissingPolicy as exc:
        logger.warning("next check of covenant %s not scheduled: %s", check.covenant_id, exc)


@transaction.atomic
def annual_review_submit(*, review_id: int, actor, outcome: str, note: str,
                         document_ids=()) -> AnnualReview:
    """The officer submits the annual review: outcome, findings, evidence documents."""
    review = _lock_review(review_id)
    transition_check(review.submit, actor=actor)
    if outcome not in ReviewOutcome.values:
        raise ValidationError({"outcome": [_("Choose the review's outcome.")]})
    note, ids = _evidence(review.loan, note=note, document_ids=document_ids)
    source = review.state
    review.submit(by=actor, at=timezone.now(), outcome=outcome, note=note, documents=ids)
    review.save()
    audit_loan_event(action="annual_review.submitted", actor=actor, subject=review,
                     loan=review.loan, payload={"from": source, "outcome": outcome,
                                                "note": note, "documents": ids,
                                                "on_time": review.done_on_time})
    _notices_done(review)
    if source == AnnualReviewState.OVERDUE:
        overdue_resolved(review.loan)
    return review


@transaction.atomic
def annual_review_accept(*, review_id: int, actor, note: str = "") -> AnnualReview:
    """A second person accepts the review."""
    review = _lock_review(review_id)
    transition_check(review.accept, actor=actor)
    review.accept(by=actor, at=timezone.now(), note=_decision_note(note, required=False))
    review.save()
    audit_loan_event(action="annual_review.accepted", actor=actor, subject=review,
                     loan=review.loan, payload={"note": review.decision_note,
                                                "outcome": review.outcome})
    return review


@transaction.atomic
def annual_review_return(*, review_id: int, actor, note: str) -> AnnualReview:
    """A second person sends the review back to the officer with the reason."""
    review = _lock_review(review_id)
    transition_check(review.return_for_correction, actor=actor)
    review.return_for_correction(by=actor, at=timezone.now(),
                                 note=_decision_note(note, required=True))
    review.save()
    audit_loan_event(action="annual_review.returned", actor=actor, subject=review,
                     loan=review.loan, payload={"note": review.decision_note})
    return review


# --- the daily sweep: reminders, overdue, escalation ----------------------------------------------


def _describe(item) -> dict:
    loan = item.loan
    what = (_("covenant check “%(text)s”") % {"text": item.covenant.text[:80]}
            if isinstance(item, CovenantCheck)
            else _("annual review (year %(year)d)") % {"year": item.year})
    return {"what": what, "loan": loan.loan_number, "due": item.due_date.isoformat()}


def _subject(item) -> str:
    return f"{'covenant_check' if isinstance(item, CovenantCheck) else 'annual_review'}:{item.pk}"


def _link(item) -> str:
    name = ("monitoring:covenant_check" if isinstance(item, CovenantCheck)
            else "monitoring:annual_review")
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[item.pk])


def _notify(item, *, kind: str, people, subject: str, body: str) -> list[int]:
    """In-app notices (the recipient's work list) and a mail after commit; one per item,
    kind and person, whoever runs the sweep."""
    sent = []
    for person in people:
        _notice, created = MonitoringNotice.objects.get_or_create(
            subject=_subject(item), kind=kind, recipient=person,
            defaults={"loan": item.loan, "message": body, "due_date": item.due_date})
        if created:
            sent.append(person)
    messages = [(subject, f"{body}\n\n{_link(item)}", settings.DEFAULT_FROM_EMAIL, [p.email])
                for p in sent if p.email]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return [p.pk for p in sent]


def _branch_heads(loan: Loan):
    """The branch's team leads: who hears of post-loan work left undone (as approvals and
    inspections escalate overdue steps)."""
    from apps.approvals.services.notifications import team_leads_of

    return team_leads_of(loan)


def _days(policy: Policy, item) -> tuple[int, int]:
    if isinstance(item, CovenantCheck):
        return policy.integer(CK.REMIND_DAYS), policy.integer(CK.ESCALATE_DAYS)
    return policy.integer(CK.REVIEW_REMIND_DAYS), policy.integer(CK.REVIEW_ESCALATE_DAYS)


def _work_item(item, *, today: dt.date, policy: Policy) -> dict[str, int]:
    """One open check or review (locked by the caller): remind, mark overdue, escalate,
    each at most once (state and stamps are re-read under the lock)."""
    from apps.monitoring.services.signals import signal_raise

    done = {"reminded": 0, "overdue": 0, "escalated": 0}
    remind_days, escalate_days = _days(policy, item)
    now, words = timezone.now(), _describe(item)
    label = "covenant_check" if isinstance(item, CovenantCheck) else "annual_review"
    # A reminder only before the due date: an item first seen late goes straight to overdue.
    if (item.state == "scheduled"
            and item.due_date - dt.timedelta(days=remind_days) <= today <= item.due_date):
        item.mark_due(at=now)
        item.save()
        people = _notify(item, kind=NoticeKind.REMINDER, people=[item.loan.officer],
                         subject=_("Due %(due)s: %(loan)s") % words,
                         body=_("The %(what)s of loan %(loan)s is due on %(due)s.") % words)
        audit_loan_event(action=f"{label}.reminded", actor=None, subject=item, loan=item.loan,
                         payload={"due_date": words["due"], "recipients": people,
                                  "policy": {"reminder_days": remind_days}})
        done["reminded"] = 1
    if item.state in ("scheduled", "due") and today > item.due_date:
        item.mark_overdue(at=now)
        item.save()
        try:  # its own savepoint: without a W26 rule in force the item is still marked
            signal_raise(loan_id=item.loan_id, code=OVERDUE_CODE, source=_subject(item),
                         observed=words["what"][:200], baseline=words["due"])
        except ValidationError as gap:
            logger.warning("W26 not raised for %s: %s", _subject(item), gap)
        audit_loan_event(action=f"{label}.overdue", actor=None, subject=item, loan=item.loan,
                         payload={"due_date": words["due"]})
        done["overdue"] = 1
    if (item.state == "overdue" and item.escalated_at is None
            and today >= item.due_date + dt.timedelta(days=escalate_days)):
        item.escalated_at = now
        item.save(update_fields=["escalated_at", "updated_at"])
        people = _notify(item, kind=NoticeKind.ESCALATION, people=_branch_heads(item.loan),
                         subject=_("Overdue: %(loan)s") % words,
                         body=_("The %(what)s of loan %(loan)s was due on %(due)s and has not "
                                "been submitted.") % words)
        audit_loan_event(action=f"{label}.escalated", actor=None, subject=item, loan=item.loan,
                         payload={"due_date": words["due"], "branch_heads": people,
                                  "policy": {"escalation_days": escalate_days}})
        done["escalated"] = 1
    return done


@transaction.atomic
def covenant_due_work(*, loan_id: int, today: dt.date | None = None) -> dict[str, int]:
    """The sweep's work on one loan's open checks and reviews, in one transaction under the
    loan's lock (items next, the audit last)."""
    today = today or timezone.localdate()
    _lock_loan(loan_id)
    policy = Policy(on=today)
    totals = {"reminded": 0, "overdue": 0, "escalated": 0}
    checks = (CovenantCheck.objects.select_for_update(no_key=True, of=("self",))
              .select_related("loan__officer", "covenant")
              .filter(loan_id=loan_id, state__in=OPEN_CHECK_STATES).order_by("pk"))
    reviews = (AnnualReview.objects.select_for_update(no_key=True, of=("self",))
               .select_related("loan__officer")
               .filter(loan_id=loan_id, state__in=OPEN_REVIEW_STATES).order_by("pk"))
    try:
        for item in [*checks, *reviews]:
            for key, value in _work_item(item, today=today, policy=policy).items():
                totals[key] += value
    except MissingPolicy as exc:
        raise _policy_gap(exc) from None
    return totals


def covenant_sweep_chunk(*, loan_ids: list[int], today: dt.date | None = None
                         ) -> dict[str, int]:
    """Schedule and work each loan of the chunk, one transaction per loan: a loan whose
    policy is missing is logged and skipped (the next day retries), the others go on."""
    today = today or timezone.localdate()
    totals: dict[str, int] = {}
    for loan_id in loan_ids:
        try:
            results = {**covenant_schedule_generate(loan_id=loan_id, today=today),
                       **covenant_due_work(loan_id=loan_id, today=today)}
        except (CovenantPolicyMissing, Loan.DoesNotExist) as exc:
            logger.warning("covenant sweep skipped loan %s: %s", loan_id, exc)
            continue
        for key, value in results.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def covenant_sweep(*, today: dt.date | None = None, chunk_size: int = 500) -> dict[str, int]:
    """The daily beat sweep: enqueue the open loans in chunks of ids (the chunk task is
    idempotent, so a re-sent or rerun chunk notifies nobody twice)."""
    from apps.core.queue import enqueue_on_commit
    from apps.core.task_names import TaskName

    today = today or timezone.localdate()
    loans = list(Loan.objects.filter(state__in=OPEN_LOAN_STATES).order_by("pk")
                 .values_list("pk", flat=True))
    with transaction.atomic():
        for start in range(0, len(loans), chunk_size):
            enqueue_on_commit(TaskName.MONITORING_COVENANT_CHUNK,
                              loan_ids=loans[start:start + chunk_size], today=today.isoformat())
    return {"loans": len(loans), "chunks": -(-len(loans) // chunk_size)}
