"""The due-diligence evidence pack (尽职免责, domain reference §4.6).

When a loan goes bad, management decides whether the officers are exempt because they did
their duty. The duties are data (`DutyRule` rows of the rule set in force); each names an
evaluator registered here, in code, with its parameters. An evaluator reads the audit trail
(and the records it points to) and answers: fulfilled, not fulfilled, not applicable or not
reached yet, with the evidence, the events and the exceptions it found.

Sign-offs: the approvals app is built separately and may be absent; the evaluator reads the
decision and signature events named in the rule's parameters (`application.approved` /
`rejected`; `approval.signed`, `committee.vote_cast` once approvals records them), so it
works with or without that app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.applications.models import Application
from apps.audit.models import AuditEvent
from apps.documents.models import Document
from apps.investigations.answers import evidence_shortfall
from apps.investigations.models import AnswerType, Investigation, Item
from apps.investigations.states import InvestigationState
from apps.oversight.models import DutyRule, DutyRuleSet
from apps.oversight.trail import application_trail_events
from apps.policy.versioning import version_in_force

FULFILLED, NOT_FULFILLED = "fulfilled", "not_fulfilled"
NOT_APPLICABLE, NOT_REACHED = "not_applicable", "not_reached"
STATUS_LABELS = {FULFILLED: gettext_lazy("Fulfilled"),
                 NOT_FULFILLED: gettext_lazy("Not fulfilled"),
                 NOT_APPLICABLE: gettext_lazy("Not applicable"),
                 NOT_REACHED: gettext_lazy("Not reached yet")}


@dataclass
class DutyResult:
    status: str
    exceptions: list[str] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (text, url or "")
    events: list[int] = field(default_factory=list)  # seqs

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


@dataclass
class PackContext:
    """What every evaluator may read, loaded once per pack."""

    application: Application
    investigation: Investigation | None
    events: list[AuditEvent]

    def of(self, *actions: str) -> list[AuditEvent]:
        return [e for e in self.events if e.action in actions]

    def starting(self, *prefixes: str) -> list[AuditEvent]:
        return [e for e in self.events if e.action.startswith(prefixes)]

    @property
    def preparers(self) -> set[int]:
        """The account manager and both investigating officers: they never sign off."""
        ids = {self.application.account_manager_id}
        if self.investigation is not None:
            ids |= self.investigation.officer_ids
        return ids


Evaluator = Callable[[PackContext, dict], DutyResult]
_evaluators: dict[str, Evaluator] = {}


def register_evaluator(code: str):
    def decorate(fn: Evaluator) -> Evaluator:
        _evaluators[code] = fn
        return fn
    return decorate


def registered_evaluators() -> list[str]:
    return sorted(_evaluators)


@register_evaluator("investigation_answered")
def _investigation_answered(ctx: PackContext, params: dict) -> DutyResult:
    investigation = ctx.investigation
    if investigation is None:
        return _not_started(ctx, _("No investigation was assigned."))
    answers = {a.item_id: a for a in investigation.answers.all()}
    result = DutyResult(FULFILLED, events=[e.seq for e in ctx.of("investigation.answer_saved")])
    items = (Item.objects.filter(template_id=investigation.template_id)
             .exclude(answer_type=AnswerType.DERIVED).order_by("section__order", "order"))
    answered = 0
    for item in items:
        answer = answers.get(item.pk)
        if answer is None:
            if item.required:
                result.exceptions.append(_("%(code)s not answered.") % {"code": item.code})
            continue
        answered += 1
        if answer.not_applicable:
            if not answer.na_reason.strip():
                result.exceptions.append(_("%(code)s marked not applicable without a reason.")
                                         % {"code": item.code})
            continue
        short = evidence_shortfall(item, answer.value, answer.evidence)
        if short:
            result.exceptions.append(_("%(code)s: evidence missing: %(what)s.")
                                     % {"code": item.code, "what": ", ".join(map(str, short))})
    if params.get("require_accepted") and investigation.state != InvestigationState.ACCEPTED:
        result.exceptions.append(_("The investigation was not accepted by a reviewer."))
    result.evidence.append((_("%(n)s checklist answers") % {"n": answered}, ""))
    if result.exceptions:
        result.status = NOT_FULFILLED
    return result


def _not_started(ctx: PackContext, reason: str) -> DutyResult:
    """Before investigation a duty is not reached; after a decision its absence is a breach."""
    decided = ctx.application.decided_at is not None
    return DutyResult(NOT_FULFILLED if decided else NOT_REACHED, exceptions=[reason])


@register_evaluator("two_officer_visit")
def _two_officer_visit(ctx: PackContext, params: dict) -> DutyResult:
    investigation = ctx.investigation
    if investigation is None:
        return _not_started(ctx, _("No investigation was assigned."))
    check_ins = ctx.of("investigation.site_checked_in")
    officers = {e.actor_id for e in check_ins}
    wanted = int(params.get("min_officers", 2))
    result = DutyResult(FULFILLED, events=[e.seq for e in check_ins],
                        evidence=[(_("%(who)s checked in at %(lat)s, %(lng)s") % {
                            "who": e.actor.display_name if e.actor else "?",
                            "lat": e.payload.get("lat"), "lng": e.payload.get("lng")}, "")
                            for e in check_ins])
    present = officers & investigation.officer_ids
    if len(present) < wanted:
        result.status = NOT_FULFILLED
        result.exceptions.append(_("%(present)s of the %(wanted)s required officers checked in "
                                   "at the site.") % {"present": len(present), "wanted": wanted})
    return result


@register_evaluator("evidence_present")
def _evidence_present(ctx: PackContext, params: dict) -> DutyResult:
    documents = list(Document.objects.filter(application=ctx.application)
                     .select_related("document_type").order_by("uploaded_at"))
    result = DutyResult(FULFILLED, events=[e.seq for e in ctx.of("document.uploaded")])
    for document in documents:
        result.evidence.append((f"{document.document_type.code} · "
                                f"{document.original_filename or document.pk}",
                                reverse("documents:download", args=[document.pk])))
        if document.quarantined:
            result.exceptions.append(_("Document %(id)s is quarantined: %(reason)s")
                                     % {"id": document.pk, "reason": document.quarantine_reason})
    wanted = int(params.get("min_documents", 1))
    if len([d for d in documents if not d.quarantined]) < wanted:
        result.exceptions.append(_("Fewer than %(n)s usable documents were collected.")
                                 % {"n": wanted})
    if result.exceptions:
        result.status = NOT_FULFILLED
    return result


@register_evaluator("cross_checks_resolved")
def _cross_checks_resolved(ctx: PackContext, params: dict) -> DutyResult:
    submissions = ctx.of("investigation.submitted")
    if not submissions:
        return _not_started(ctx, _("The cross-checks never ran: no investigation was "
                                   "submitted."))
    last = submissions[-1]
    findings = list(last.payload.get("red_flags") or []) + list(
        last.payload.get("cross_checks") or [])
    result = DutyResult(FULFILLED, events=[e.seq for e in submissions])
    result.evidence.append((_("Checks ran at submission round %(round)s: %(n)s findings")
                            % {"round": last.payload.get("round"), "n": len(findings)}, ""))
    if findings:
        minimum = int(params.get("explanation_min_length", 10))
        explained = [e for e in ctx.of("investigation.accepted", "application.sent_to_approval")
                     if e.seq > last.seq and len((e.payload.get("comment") or "").strip())
                     >= minimum]
        result.events += [e.seq for e in explained]
        if not explained:
            result.status = NOT_FULFILLED
            result.exceptions.append(_("Findings not explained by the reviewer: %(codes)s")
                                     % {"codes": ", ".join(findings)})
    return result


@register_evaluator("independent_review")
def _independent_review(ctx: PackContext, params: dict) -> DutyResult:
    result = DutyResult(FULFILLED)
    actions = params.get("actions") or []
    reviews = ctx.of(*actions)
    if not reviews:
        return _not_started(ctx, _("No review is recorded."))
    for event in reviews:
        result.events.append(event.seq)
        who = event.actor.display_name if event.actor else _("System")
        result.evidence.append((f"{event.action}: {who}", ""))
        if event.actor_id in ctx.preparers:
            result.exceptions.append(_("Event %(seq)s: %(who)s reviewed a file they prepared.")
                                     % {"seq": event.seq, "who": who})
    if result.exceptions:
        result.status = NOT_FULFILLED
    return result


@register_evaluator("sign_offs")
def _sign_offs(ctx: PackContext, params: dict) -> DutyResult:
    decisions = ctx.of(*(params.get("actions") or []))
    sign_offs = ctx.of(*(params.get("sign_off_actions") or []))
    if not decisions:
        return DutyResult(NOT_REACHED, exceptions=[_("No decision is recorded yet.")],
                          events=[e.seq for e in sign_offs])
    result = DutyResult(FULFILLED, events=[e.seq for e in sign_offs + decisions])
    for event in sign_offs + decisions:
        who = event.actor.display_name if event.actor else _("System")
        result.evidence.append((f"{event.action}: {who}", ""))
        if event.actor_id is None or event.actor_id in ctx.preparers:
            result.exceptions.append(_("Event %(seq)s: signed off by %(who)s, who prepared "
                                       "the file or is not a person.")
                                     % {"seq": event.seq, "who": who})
    if result.exceptions:
        result.status = NOT_FULFILLED
    return result


@register_evaluator("post_loan_inspections")
def _post_loan_inspections(ctx: PackContext, params: dict) -> DutyResult:
    """Post-loan duty (§4.6 贷后管理): every loan of the application had its first inspection
    within the policy window in force on its value date, and every inspection due so far was
    submitted by its due date. Evaluated from the inspections themselves, never assumed: a
    loan whose first-check deadline passed without one fails, whether or not it was ever
    scheduled."""
    from apps.loans.models import Loan
    from apps.monitoring.inspection_states import InspectionKind
    from apps.monitoring.schedule_policy import (
        FIRST_DAYS,
        SchedulePolicy,
        SchedulePolicyMissing,
        first_check_due,
    )

    loans = list(Loan.objects.filter(application=ctx.application).order_by("value_date", "pk")
                 .prefetch_related("inspections"))
    events = [e.seq for e in ctx.starting("inspection.")]
    if not loans:
        return DutyResult(NOT_APPLICABLE, events=events, evidence=[(
            _("No loan has been booked for this application: there is nothing to inspect "
              "yet."), "")])
    today = timezone.localdate()
    result = DutyResult(FULFILLED, events=events)
    reached = False
    for loan in loans:
        inspections = list(loan.inspections.all())
        policy = SchedulePolicy.in_force(loan.value_date)
        try:
            deadline = first_check_due(loan, policy)
        except SchedulePolicyMissing as exc:
            result.exceptions.append(_("Loan %(loan)s: policy value %(key)s was not in force "
                                       "on its value date; the first-check window is unknown.")
                                     % {"loan": loan.loan_number, "key": exc.key})
            continue
        version = policy.basis[FIRST_DAYS]["version"]
        words = {"loan": loan.loan_number, "due": deadline.isoformat(), "version": version}
        first = next((i for i in inspections if i.kind == InspectionKind.FIRST), None)
        done = timezone.localdate(first.submitted_at) if first and first.submitted_at else None
        if done is None:
            if today > deadline:
                reached = True
                result.exceptions.append(_("Loan %(loan)s: the first inspection due by %(due)s "
                                           "(policy version %(version)s) was not done.") % words)
        elif done > deadline:
            reached = True
            result.exceptions.append(_("Loan %(loan)s: the first inspection was done on "
                                       "%(done)s, after its deadline %(due)s (policy version "
                                       "%(version)s).") % {**words, "done": done.isoformat()})
        else:
            reached = True
            result.evidence.append((_("Loan %(loan)s: first inspection done on %(done)s, due by "
                                      "%(due)s (policy version %(version)s).")
                                    % {**words, "done": done.isoformat()},
                                    reverse("monitoring:inspection_form", args=[first.pk])))
        for inspection in inspections:
            if inspection.kind == InspectionKind.FIRST or inspection.due_date >= today:
                continue
            reached = True
            label = {"loan": loan.loan_number, "kind": inspection.get_kind_display(),
                     "due": inspection.due_date.isoformat()}
            if inspection.submitted_at is None:
                result.exceptions.append(_("Loan %(loan)s: %(kind)s due %(due)s was not done.")
                                         % label)
            elif not inspection.done_on_time:
                result.exceptions.append(_("Loan %(loan)s: %(kind)s due %(due)s was done late.")
                                         % label)
            else:
                result.evidence.append((_("Loan %(loan)s: %(kind)s due %(due)s done on time.")
                                        % label, ""))
    if result.exceptions:
        result.status = NOT_FULFILLED
    elif not reached:
        result.status = NOT_REACHED
        result.evidence.append((_("No inspection has fallen due yet."), ""))
    return result


@dataclass
class DutyLine:
    rule: DutyRule
    result: DutyResult


@dataclass
class EvidencePack:
    application: Application
    rule_set: DutyRuleSet | None
    lines: list[DutyLine]
    generated_at: object
    head_seq: int | None

    @property
    def exceptions(self) -> list[tuple[str, str]]:
        return [(line.rule.code, text) for line in self.lines for text in line.result.exceptions
                if line.result.status == NOT_FULFILLED]

    @property
    def all_fulfilled(self) -> bool:
        return all(line.result.status in (FULFILLED, NOT_APPLICABLE) for line in self.lines)


def rule_set_in_force(on=None) -> DutyRuleSet | None:
    """The published version whose dates cover `on` (default today); never a draft."""
    on = on or timezone.localdate()
    return (version_in_force(DutyRuleSet.objects.all(), on=on)
            .order_by("-effective_from", "-version").first())


def build_pack(application: Application, rule_set: DutyRuleSet | None = None) -> EvidencePack:
    """Evaluate every duty of the rule set in force (or of `rule_set`, e.g. a draft being
    previewed in the policy workbench) against the application's trail."""
    rule_set = rule_set if rule_set is not None else rule_set_in_force()
    events = list(application_trail_events(application.pk))
    investigation = (Investigation.objects.filter(application=application)
                     .prefetch_related("answers").first())
    ctx = PackContext(application=application, investigation=investigation, events=events)
    lines = []
    for rule in (rule_set.rules.all() if rule_set else []):
        evaluator = _evaluators.get(rule.evaluator)
        if evaluator is None:
            result = DutyResult(NOT_FULFILLED, exceptions=[
                _("Rule %(code)s names an unknown evaluator %(name)s.")
                % {"code": rule.code, "name": rule.evaluator}])
        else:
            result = evaluator(ctx, rule.parameters or {})
        lines.append(DutyLine(rule=rule, result=result))
    return EvidencePack(application=application, rule_set=rule_set, lines=lines,
                        generated_at=timezone.now(),
                        head_seq=events[-1].seq if events else None)
