"""Writes of the exemption workflow (尽职免责, §4.6, §6.4): open, review, decide, appeal,
close, batch decisions and the daily sweep.

Each service is one transaction: lock → permission (403) → state (409) → transition → save →
audit (scoped to the loan's application and branch). Thresholds and day counts are policy
values (`exemption_policy`), and each case records the versions it used.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import transition_check
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES, LoanState
from apps.oversight.exemption_models import (
    AppealWouldWorsen,
    ExemptionBatch,
    ExemptionCase,
    ExemptionPerson,
    is_exemption_committee,
)
from apps.oversight.exemption_pack import pack_freeze
from apps.oversight.exemption_policy import (
    APPEAL_WINDOW_DAYS,
    BATCH_MAX_PRINCIPAL,
    REVIEW_DEADLINE_DAYS,
    SUBSTANDARD_DPD,
    exemption_policy,
)
from apps.oversight.exemption_states import OPEN_CASE_STATES, Incident, Tier, tier_not_worse
from apps.oversight.exemption_states import ExemptionCaseState as S

REASON_MIN_LENGTH = 5


def _locked_case(case_id: int) -> ExemptionCase:
    # Lock first: two committee members must not both decide one case.
    return ExemptionCase.objects.select_for_update(no_key=True).get(pk=case_id)


def _audit(case: ExemptionCase, action: str, actor, payload: dict) -> None:
    audit_record(action=action, actor=actor, subject=case,
                 payload={"loan_id": case.loan_id, "case_id": case.pk, **payload},
                 application_id=case.application_id, branch_id=case.branch_id)


def _open_existing(loan_id: int) -> ExemptionCase | None:
    return ExemptionCase.objects.filter(loan_id=loan_id).exclude(state=S.CLOSED).first()


@transaction.atomic
def exemption_case_open(*, loan_id: int, incident: str, actor, note: str = "") -> ExemptionCase:
    """Open the exemption review of a loan that went bad, freezing its evidence pack.

    Idempotent: a loan has at most one case being worked (a partial unique constraint); asking
    again returns that case. `actor` None is the daily sweep; people who open a case by hand
    are exemption committee members. The 365-day deadline (金规〔2024〕11号: reviews finish
    within a year) is a policy value, its version recorded on the case.
    """
    if actor is not None and not is_exemption_committee(actor):
        raise PermissionDenied(_("Only exemption committee members may open a case."))
    if incident not in Incident.values:
        raise ValidationError({"incident": [_("Choose one of the listed incidents.")]})
    loan = (Loan.objects.select_for_update(no_key=True, of=("self",))
            .select_related("application__enterprise", "application__branch",
                            "application__account_manager", "contract__created_by",
                            "disbursement__requested_by", "disbursement__decided_by",
                            "officer").get(pk=loan_id))
    existing = _open_existing(loan.pk)
    if existing is not None:
        return existing
    deadline = exemption_policy(REVIEW_DEADLINE_DAYS)  # seeds the defaults once if absent
    pack, digest = pack_freeze(loan, incident=incident, note=note)
    if actor is not None and actor.pk in {p["user_id"] for p in pack["people"]}:
        raise PermissionDenied(_("You handled this loan, so you may not open its case."))
    opened_at = timezone.now()
    case = ExemptionCase(
        loan=loan, application_id=loan.application_id, branch_id=loan.branch_id,
        incident=incident, incident_note=note, opened_by=actor, opened_at=opened_at,
        deadline_at=opened_at + dt.timedelta(days=int(deadline.value)),
        deadline_policy_version=deadline.version, handled_on=pack["handled_on"],
        rule_set_version=(pack["rule_set"] or {}).get("version"),
        policy_versions={k: v["version"] for k, v in pack["policy_versions"].items()},
        pack=pack, pack_sha256=digest)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        # Another opener won between our check and insert (the loan lock makes this rare).
        return _open_existing(loan.pk)
    ExemptionPerson.objects.bulk_create([
        ExemptionPerson(case=case, user_id=entry["user_id"], involvements=entry["involvements"],
                        dissent=entry["dissent"], proposed_tier=entry["proposed_tier"])
        for entry in pack["people"]])
    _audit(case, "exemption_case.opened", actor, {
        "incident": incident, "pack_sha256": digest, "deadline_at": case.deadline_at,
        "deadline_policy_version": deadline.version, "rule_set_version": case.rule_set_version,
        "people": [p["user_id"] for p in pack["people"]]})
    return case


@transaction.atomic
def exemption_case_start_review(*, case_id: int, actor) -> ExemptionCase:
    """The exemption committee takes the case up (a member not under review)."""
    case = _locked_case(case_id)
    transition_check(case.start_review, actor=actor)
    case.start_review(by=actor)
    case.save()
    _audit(case, "exemption_case.review_started", actor, {})
    return case


def _reason(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) < REASON_MIN_LENGTH:
        raise ValidationError({field: [_("Give the reasons (at least %(n)s characters).")
                                       % {"n": REASON_MIN_LENGTH}]})
    return value


def _decide(case: ExemptionCase, *, actor, summary: str, tiers: dict[int, dict],
            batch: ExemptionBatch | None = None) -> ExemptionCase:
    people = {p.pk: p for p in case.people.select_for_update(no_key=True)}
    # Every field's problem at once, so the form shows each next to its field.
    errors = {}
    if len((summary or "").strip()) < REASON_MIN_LENGTH:
        errors["summary"] = [_("Give the reasons (at least %(n)s characters).")
                             % {"n": REASON_MIN_LENGTH}]
    summary = (summary or "").strip()
    for pk in people:
        choice = tiers.get(pk) or {}
        if choice.get("tier") not in Tier.values:
            errors[f"tier_{pk}"] = [_("Choose a tier for this person.")]
        elif len((choice.get("reason") or "").strip()) < REASON_MIN_LENGTH:
            errors[f"reason_{pk}"] = [_("Give the reasons (at least %(n)s characters).")
                                      % {"n": REASON_MIN_LENGTH}]
    unknown = set(tiers) - set(people)
    if unknown:
        errors["tiers"] = [_("These people are not part of the case: %(ids)s")
                           % {"ids": ", ".join(map(str, sorted(unknown)))}]
    if errors:
        raise ValidationError(errors)
    window = exemption_policy(APPEAL_WINDOW_DAYS)
    case.decide(by=actor, summary=summary,
                appeal_window_ends_at=timezone.now() + dt.timedelta(days=int(window.value)),
                batch=batch)
    case.save()
    for pk, person in people.items():
        person.tier = tiers[pk]["tier"]
        person.reason = tiers[pk]["reason"].strip()
        person.relied_on = (tiers[pk].get("relied_on") or "").strip()
        person.save(update_fields=["tier", "reason", "relied_on"])
    _audit(case, "exemption_case.decided", actor, {
        "summary": summary, "batch_id": batch.pk if batch else None,
        "appeal_window_policy_version": window.version,
        "tiers": {str(people[pk].user_id): tiers[pk]["tier"] for pk in people}})
    return case


@transaction.atomic
def exemption_case_decide(*, case_id: int, actor, summary: str,
                          tiers: dict[int, dict]) -> ExemptionCase:
    """Record the committee's tier for every person (`tiers`: person id → {tier, reason,
    relied_on}): 应免责 / 可减免责 / 不得免责 with reasons and the rule or evidence relied on.
    The decider is a committee member who is not under review; the appeal window is policy."""
    case = _locked_case(case_id)
    transition_check(case.decide, actor=actor)
    return _decide(case, actor=actor, summary=summary, tiers=tiers)


@transaction.atomic
def exemption_case_appeal(*, case_id: int, actor, grounds: str) -> ExemptionCase:
    """A person under review appeals (申诉) their tier, within the appeal window."""
    case = _locked_case(case_id)
    transition_check(case.appeal, actor=actor)
    person = case.people.select_for_update(no_key=True).get(user=actor)
    if person.appealed_at is not None:
        raise TransitionConflict(detail=_("You have already appealed this decision."))
    if case.appeal_window_ends_at and timezone.now() > case.appeal_window_ends_at:
        raise TransitionConflict(detail=_("The appeal window closed on %(at)s.")
                                 % {"at": timezone.localtime(case.appeal_window_ends_at)
                                    .strftime("%Y-%m-%d")})
    grounds = _reason(grounds, "grounds")
    from_state = case.state
    case.appeal(by=actor)
    case.save()
    person.appealed_at, person.appeal_grounds = timezone.now(), grounds
    person.save(update_fields=["appealed_at", "appeal_grounds"])
    _audit(case, "exemption_case.appealed", actor, {"person_id": person.pk, "grounds": grounds,
                                                    "from": from_state, "tier": person.tier})
    return case


@transaction.atomic
def exemption_case_decide_appeal(*, case_id: int, actor, summary: str,
                                 outcomes: dict[int, dict]) -> ExemptionCase:
    """Decide every pending appeal: confirm or lighten each tier, never worsen it
    (金规〔2024〕11号). The appeal reviewer is a committee member other than the decider and
    not under review (§6.4). A worsening refuses the whole decision with a field error."""
    case = _locked_case(case_id)
    transition_check(case.decide_appeal, actor=actor)
    appealed = {p.pk: p for p in case.people.select_for_update(no_key=True)
                if p.appealed_at is not None and not p.appeal_outcome}
    errors = {}
    if len((summary or "").strip()) < REASON_MIN_LENGTH:
        errors["summary"] = [_("Give the reasons (at least %(n)s characters).")
                             % {"n": REASON_MIN_LENGTH}]
    summary = (summary or "").strip()
    for pk, person in appealed.items():
        choice = outcomes.get(pk) or {}
        outcome = choice.get("outcome")
        if outcome not in Tier.values:
            errors[f"outcome_{pk}"] = [_("Choose the outcome for this appeal.")]
        elif not tier_not_worse(outcome, person.tier):
            errors[f"outcome_{pk}"] = [_("An appeal may confirm or lighten the decision "
                                         "(here: %(tier)s), never make it more severe.")
                                       % {"tier": Tier(person.tier).label}]
        elif len((choice.get("reason") or "").strip()) < REASON_MIN_LENGTH:
            errors[f"reason_{pk}"] = [_("Give the reasons (at least %(n)s characters).")
                                      % {"n": REASON_MIN_LENGTH}]
    extra = set(outcomes) - set(appealed)
    if extra:
        errors["outcomes"] = [_("Only pending appeals can be decided.")]
    if errors:
        raise ValidationError(errors)
    try:
        case.decide_appeal(by=actor, summary=summary, outcomes={
            pk: (p.tier, outcomes[pk]["outcome"]) for pk, p in appealed.items()})
    except AppealWouldWorsen as exc:  # the transition's own guard (unreachable after above)
        raise ValidationError({"outcomes": exc.messages}) from None
    case.save()
    for pk, person in appealed.items():
        person.appeal_outcome = outcomes[pk]["outcome"]
        person.appeal_reason = outcomes[pk]["reason"].strip()
        person.save(update_fields=["appeal_outcome", "appeal_reason"])
    _audit(case, "exemption_case.appeal_decided", actor, {
        "summary": summary,
        "outcomes": {str(p.user_id): [p.tier, p.appeal_outcome] for p in appealed.values()}})
    return case


@transaction.atomic
def exemption_case_close(*, case_id: int, actor) -> ExemptionCase:
    """Close a case whose appeal is decided, or whose appeal window passed with none."""
    case = _locked_case(case_id)
    transition_check(case.close, actor=actor)
    if (case.state == S.DECIDED and case.appeal_window_ends_at
            and timezone.now() <= case.appeal_window_ends_at):
        raise TransitionConflict(detail=_("Appeals are accepted until %(at)s; close the case "
                                          "after that.") % {"at": timezone.localtime(
                                              case.appeal_window_ends_at).strftime("%Y-%m-%d")})
    now = timezone.now()
    case.close(at=now)
    case.save()
    _audit(case, "exemption_case.closed", actor, {})
    return case


@transaction.atomic
def exemption_batch_decide(*, case_ids: list[int], actor, tier: str, reason: str,
                           relied_on: str = "") -> ExemptionBatch:
    """One committee decision for many small, clearly attributable loans (batch diligence
    report, §4.6). Every case must be under review, on a loan whose principal is within the
    batch limit (policy), and judge no one who is deciding. Each case keeps its own frozen
    pack; written dissenters keep their 应免责 proposal. All or nothing."""
    if tier not in Tier.values:
        raise ValidationError({"tier": [_("Choose a tier.")]})
    reason = _reason(reason, "reason")
    if not case_ids:
        raise ValidationError({"case_ids": [_("Choose at least one case.")]})
    limit = exemption_policy(BATCH_MAX_PRINCIPAL)
    cases = list(ExemptionCase.objects.select_for_update(no_key=True, of=("self",))
                 .select_related("loan").filter(pk__in=case_ids).order_by("pk"))
    if len(cases) != len(set(case_ids)):
        raise ValidationError({"case_ids": [_("Some cases do not exist.")]})
    for case in cases:
        transition_check(case.decide, actor=actor)
    too_large = [str(c) for c in cases if c.loan.principal > Decimal(limit.value)]
    if too_large:
        raise ValidationError({"case_ids": [_("Above the batch limit of %(limit)s: %(cases)s. "
                                              "Decide these one by one.")
                                            % {"limit": limit.value.normalize(),
                                               "cases": ", ".join(too_large)}]})
    batch = ExemptionBatch.objects.create(tier=tier, reason=reason, decided_by=actor,
                                          max_principal=limit.value,
                                          policy_version=limit.version)
    for case in cases:
        tiers = {}
        for person in case.people.all():
            own = Tier.FULL.value if person.dissent else tier
            tiers[person.pk] = {"tier": own, "reason": reason, "relied_on": relied_on}
        _decide(case, actor=actor, summary=reason, tiers=tiers, batch=batch)
    return batch


# --- the daily sweep ---------------------------------------------------------------------------

def loans_needing_case(*, floor_days: int):
    """Loans past the non-performing floor or written off, without any case yet."""
    bad = (Q(state=LoanState.WRITTEN_OFF)
           | Q(state__in=OPEN_LOAN_STATES) & (Q(dpd_principal__gt=floor_days)
                                              | Q(dpd_interest__gt=floor_days)))
    return (Loan.objects.filter(bad).exclude(exemption_cases__isnull=False)
            .order_by("pk").values_list("pk", "state"))


def exemption_cases_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Daily: open cases for loans that went bad, flag and escalate cases past their
    365-day deadline, and close decided cases whose appeal window passed without appeal.
    Idempotent: every step re-reads state and does nothing twice."""
    now = now or timezone.now()
    counts = {"opened": 0, "overdue": 0, "closed": 0}
    floor = exemption_policy(SUBSTANDARD_DPD)
    for loan_id, state in list(loans_needing_case(floor_days=int(floor.value))):
        incident = (Incident.WRITTEN_OFF if state == LoanState.WRITTEN_OFF
                    else Incident.NON_PERFORMING)
        note = ("Swept: written off" if incident == Incident.WRITTEN_OFF else
                f"Swept: more than {int(floor.value)} days past due (policy {SUBSTANDARD_DPD} "
                f"v{floor.version})")
        exemption_case_open(loan_id=loan_id, incident=incident, actor=None, note=note)
        counts["opened"] += 1
        if not connection.in_atomic_block:  # a long sweep drops stale connections between units
            close_old_connections()
    for case_id in list(ExemptionCase.objects.filter(
            state__in=OPEN_CASE_STATES, deadline_at__lte=now, overdue_at__isnull=True)
            .values_list("pk", flat=True)):
        counts["overdue"] += exemption_case_flag_overdue(case_id=case_id, now=now)
    for case_id in list(ExemptionCase.objects.filter(
            state=S.DECIDED, appeal_window_ends_at__lt=now).values_list("pk", flat=True)):
        exemption_case_close(case_id=case_id, actor=None)
        counts["closed"] += 1
    return counts


@transaction.atomic
def exemption_case_flag_overdue(*, case_id: int, now: dt.datetime) -> int:
    """Flag a case past its review deadline and escalate it (an audit event the committee's
    list and dashboard show); returns 1 when flagged now, 0 when already flagged."""
    case = _locked_case(case_id)
    if case.overdue_at is not None or case.state == S.CLOSED or case.deadline_at > now:
        return 0
    case.overdue_at = now
    case.save(update_fields=["overdue_at", "updated_at"])
    _audit(case, "exemption_case.overdue", None, {"deadline_at": case.deadline_at,
                                                  "state": case.state,
                                                  "escalated_to": "exemption_committee"})
    return 1
