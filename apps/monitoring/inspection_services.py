"""Writes for post-loan inspections: schedule, special request, start, answer, submit, review,
return, overdue and escalation (domain reference §4.1, §4.2, §4.5).

Every service is one transaction: lock → permission → state → change → save → audit
(CONVENTIONS §3). Answers are cleaned and checked by the investigation engine
(`apps.investigations.answers`, `.rules`, `.controls.photos`) exactly as an investigation's are;
only the binding differs (a loan instead of an application). Schedule generation is idempotent:
one row per (loan, schedule key), under the loan's row lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import asdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError, TransitionConflict
from apps.core.fsm import transition_check
from apps.investigations import rules
from apps.investigations.answers import answer_clean, evidence_clean, evidence_shortfall
from apps.investigations.evidence import FiguresResolver
from apps.investigations.models import AnswerType, ChecklistTemplate, Item
from apps.investigations.policy import PolicyResolver
from apps.investigations.states import ChecklistTemplateState
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import inspection_hooks, schedule_policy
from apps.monitoring.inspection_models import Inspection, InspectionAnswer
from apps.monitoring.inspection_states import (
    Cooperation,
    InspectionKind,
    InspectionState,
    ProposedClass,
    RequestedAction,
)

# Items whose answers feed the conclusion the signals read (§4.2 mapping: W17, W18).
FUNDS_ITEM, COOPERATION_ITEM = "FUNDS_AS_AGREED", "COOPERATION"
TEMPLATE_CODE = "postloan-{kind}"


class AnswerConflict(DomainError):
    """Saved on a stale version; `fields["current"]` holds the stored answer (HTTP 409)."""

    code = "answer_conflict"
    status_code = 409


class InspectionIncomplete(DomainError):
    """Submission refused; `fields["missing"]` lists everything still missing, at once."""

    code = "inspection_incomplete"
    status_code = 409


class ScheduleNotConfigured(DomainError):
    """A schedule policy value or a post-loan template is missing (HTTP 409)."""

    code = "schedule_not_configured"
    status_code = 409


# --- helpers -----------------------------------------------------------------------------------


def _lock(inspection_id: int) -> Inspection:
    # of=("self",): the joined loan and template rows are read, not locked (CONVENTIONS §4).
    return (Inspection.objects.select_for_update(no_key=True, of=("self",))
            .select_related("loan", "template").get(pk=inspection_id))


def _check_in_scope(actor, branch_id: int) -> None:
    branch_ids = visible_branch_ids(viewer=actor)
    if branch_ids is not None and branch_id not in branch_ids:
        raise PermissionDenied(_("This record belongs to another branch."))


def _template_for(loan: Loan, kind: str) -> ChecklistTemplate:
    """The published post-loan template of this kind for the loan's product, else the
    product-less built-in one (latest version)."""
    published = ChecklistTemplate.objects.filter(state=ChecklistTemplateState.PUBLISHED,
                                                 code=TEMPLATE_CODE.format(kind=kind))
    product_id = loan.product_version.product_id
    template = (published.filter(product_id=product_id).order_by("-version").first()
                or published.filter(product__isnull=True).order_by("-version").first())
    if template is None:
        raise ScheduleNotConfigured(_("No post-loan checklist template is published for "
                                      "“%(kind)s”.") % {"kind": InspectionKind(kind).label})
    return template


def _create(loan: Loan, *, kind: str, key: str, due: dt.date, basis: dict, actor,
            reason: str = "") -> Inspection | None:
    """Insert one scheduled inspection unless the (loan, key) row exists (idempotent)."""
    if Inspection.objects.filter(loan=loan, schedule_key=key).exists():
        return None
    inspection = Inspection.objects.create(
        loan=loan, branch_id=loan.branch_id, application_id=loan.application_id, kind=kind,
        schedule_key=key, template=_template_for(loan, kind), officer_id=loan.officer_id,
        due_date=due, reason=reason, policy_basis=basis)
    audit_record(action="inspection.scheduled", actor=actor, subject=inspection,
                 payload={"loan": loan.pk, "kind": kind, "due_date": due.isoformat(),
                          "schedule_key": key, "policy": basis, "reason": reason})
    return inspection


def _policy(on: dt.date) -> schedule_policy.SchedulePolicy:
    return schedule_policy.SchedulePolicy.in_force(on)


# --- schedule -----------------------------------------------------------------------------------


@transaction.atomic
def inspection_schedule_generate(*, loan_id: int, today: dt.date | None = None,
                                 actor=None) -> list[Inspection]:
    """Create the loan's due inspections from policy (§4.1 default schedule rules):

    - m1 first check N days after the value date (policy in force on the value date);
    - m4 repayment-source check N days before maturity;
    - the next m2 routine check, one at a time: the grade's interval or the tenor's, the
      stricter wins, counted from the last reviewed check (or the value date), brought forward
      to the date a reviewed conclusion set; none while one is still pending.

    Idempotent: re-running creates nothing twice (the loan row is locked, and each row has a
    unique schedule key). Returns the inspections created now.
    """
    loan = (Loan.objects.select_for_update(no_key=True, of=("self",))
            .select_related("product_version")
            .get(pk=loan_id))
    if loan.state not in OPEN_LOAN_STATES:
        return []
    today = today or timezone.localdate()
    created: list[Inspection | None] = []
    try:
        at_value_date = _policy(loan.value_date)
        first_due = schedule_policy.first_check_due(loan, at_value_date)
        created.append(_create(loan, kind=InspectionKind.FIRST, key="m1", due=first_due,
                               basis=dict(at_value_date.basis), actor=actor))
        at_value_date.basis.clear()
        m4_due = schedule_policy.repayment_check_due(loan, at_value_date)
        if m4_due > loan.value_date:
            created.append(_create(loan, kind=InspectionKind.REPAYMENT_SOURCE, key="m4",
                                   due=m4_due, basis=dict(at_value_date.basis), actor=actor))
        created.append(_next_routine(loan, today=today, before=m4_due, actor=actor))
    except schedule_policy.SchedulePolicyMissing as exc:
        raise ScheduleNotConfigured(_("The inspection schedule cannot be computed: policy "
                                      "value %(key)s is not in force on %(day)s.")
                                    % {"key": exc.key, "day": exc.on.isoformat()}) from None
    return [i for i in created if i is not None]


def _next_routine(loan: Loan, *, today: dt.date, before: dt.date, actor) -> Inspection | None:
    pending = (InspectionState.SCHEDULED, InspectionState.IN_PROGRESS, InspectionState.OVERDUE,
               InspectionState.SUBMITTED)
    if loan.inspections.filter(kind=InspectionKind.ROUTINE, state__in=pending).exists():
        return None
    last = (loan.inspections.filter(state=InspectionState.REVIEWED)
            .exclude(kind=InspectionKind.REPAYMENT_SOURCE)
            .order_by("-submitted_at", "-id").first())
    anchor = timezone.localdate(last.submitted_at) if last is not None else loan.value_date
    policy = _policy(anchor)
    interval = schedule_policy.routine_interval_months(loan, policy)
    due = schedule_policy.add_months(anchor, interval)
    basis = dict(policy.basis)
    basis["anchor"] = {"value": anchor.isoformat()}
    if last is not None and last.next_inspection_date and last.next_inspection_date < due:
        # The reviewed conclusion set an earlier date: the stricter date wins.
        due = last.next_inspection_date
        basis["conclusion"] = {"value": due.isoformat(), "inspection": last.pk}
    if due >= before or due >= loan.maturity_date:
        return None  # the repayment-source check comes first
    return _create(loan, kind=InspectionKind.ROUTINE, key=f"m2:{due.isoformat()}", due=due,
                   basis=basis, actor=actor)


@transaction.atomic
def inspection_request_special(*, loan_id: int, due_date: dt.date | None = None, reason: str,
                               actor=None, signal_day: dt.date | None = None) -> Inspection:
    """A special check (重点/专项检查) for a level-2/3 signal or an event (§4.1, §4.4): due
    within N days of the signal (policy), or on `due_date` when the caller sets an earlier one.
    One special check per loan and due date: a second request for the same day returns the
    first (idempotent)."""
    loan = (Loan.objects.select_for_update(no_key=True, of=("self",))
            .select_related("product_version")
            .get(pk=loan_id))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the special check is needed.")})
    signal_day = signal_day or timezone.localdate()
    policy = _policy(signal_day)
    try:
        latest = schedule_policy.special_check_due(signal_day, policy)
    except schedule_policy.SchedulePolicyMissing as exc:
        raise ScheduleNotConfigured(_("Policy value %(key)s is not in force.")
                                    % {"key": exc.key}) from None
    due = min(due_date, latest) if due_date else latest
    key = f"special:{due.isoformat()}"
    existing = loan.inspections.filter(schedule_key=key).first()
    if existing is not None:
        return existing
    return _create(loan, kind=InspectionKind.SPECIAL, key=key, due=due,
                   basis=dict(policy.basis), actor=actor, reason=reason)


# --- the officer's work ----------------------------------------------------------------------


def _require_officer(inspection: Inspection, actor) -> None:
    if actor is None or actor.pk != inspection.officer_id:
        raise PermissionDenied(_("Only the officer the inspection is assigned to works on it."))


def _require_editable(inspection: Inspection) -> None:
    if not inspection.is_editable:
        raise TransitionConflict(detail=_("Answers can only change while the inspection is in "
                                          "progress."))


@transaction.atomic
def inspection_start(*, inspection_id: int, actor) -> Inspection:
    """The officer opens the inspection on site (scheduled or overdue → in progress)."""
    inspection = _lock(inspection_id)
    _check_in_scope(actor, inspection.branch_id)
    transition_check(inspection.start, actor=actor)
    source = inspection.state
    inspection.start(at=timezone.now())
    inspection.save()
    audit_record(action="inspection.started", actor=actor, subject=inspection,
                 payload={"from": source, "to": inspection.state})
    return inspection


def _answer_payload(answer: InspectionAnswer | None) -> dict:
    if answer is None:
        return {"version": None, "value": None, "not_applicable": False, "na_reason": ""}
    return {"version": answer.version, "value": answer.value,
            "not_applicable": answer.not_applicable, "na_reason": answer.na_reason,
            "evidence": answer.evidence, "answered_by": answer.answered_by_id}


@transaction.atomic
def inspection_answer_save(*, inspection_id: int, item_code: str, value=None,
                           not_applicable: bool = False, na_reason: str = "",
                           expected_version: int | None = None, actor,
                           evidence=None) -> InspectionAnswer:
    """Save (autosave) one answer, cleaned by the checklist engine (§3.2 answer types).

    Idempotent: saving what is stored changes nothing. Otherwise `expected_version` must be the
    version the caller read (None for a first answer), or `AnswerConflict`. "Not applicable"
    needs the item to allow it and a reason.
    """
    inspection = _lock(inspection_id)
    _require_officer(inspection, actor)
    _require_editable(inspection)
    item = Item.objects.filter(template_id=inspection.template_id, code=item_code).first()
    if item is None:
        raise ValidationError({item_code: _("This checklist has no such item.")})
    if not_applicable:
        if item.answer_type == AnswerType.DERIVED:
            answer_clean(item, value)  # raises: derived values are never entered
        if not item.na_allowed:
            raise ValidationError({item_code: _("This item cannot be marked not applicable.")})
        na_reason = (na_reason or "").strip()
        if not na_reason:
            raise ValidationError({item_code: _("Say why this item is not applicable.")})
        clean, clean_evidence = None, {}
    else:
        clean, na_reason = answer_clean(item, value), ""
        clean_evidence = evidence_clean(item, evidence)
    answer = (InspectionAnswer.objects.select_for_update(no_key=True)
              .filter(inspection=inspection, item=item).first())
    if answer is not None and (answer.value, answer.not_applicable, answer.na_reason,
                               answer.evidence) == (clean, bool(not_applicable), na_reason,
                                                    clean_evidence):
        return answer  # a retried save: already stored
    current = answer.version if answer is not None else None
    if expected_version != current:
        raise AnswerConflict(_("This answer changed since you read it; review the current one "
                               "before saving."),
                             fields={"item": item_code, "current": _answer_payload(answer)})
    old = _answer_payload(answer)
    if answer is None:
        answer = InspectionAnswer(inspection=inspection, item=item, version=1)
    else:
        answer.version += 1
    answer.value, answer.evidence = clean, clean_evidence
    answer.not_applicable, answer.na_reason = bool(not_applicable), na_reason
    answer.answered_by = actor
    answer.save()
    audit_record(action="inspection.answer_saved", actor=actor, subject=inspection,
                 payload={"item": item_code, "version": answer.version,
                          "old": {k: old[k] for k in ("value", "not_applicable", "na_reason")},
                          "new": {"value": clean, "not_applicable": bool(not_applicable),
                                  "na_reason": na_reason}})
    return answer


def rule_inputs(inspection: Inspection):
    """The template document, the values the rules see (N/A as unknown, derived values) and
    the resolvers, evaluated against the loan's application documents as they are now (fresh
    figures: a cross-check is recomputed against what was collected since the loan)."""
    from apps.monitoring.inspection_selectors import template_document

    document = template_document(inspection.template)
    answers = {a.item.code: a.value for a in inspection.answers.select_related("item")
               if not a.not_applicable}
    resolver = PolicyResolver()
    figures = FiguresResolver(inspection.application_id)
    values = rules.derived_values(document, answers, resolver, figures)
    return document, values, resolver, figures


def inspection_missing(inspection: Inspection) -> list[str]:
    """Everything that stops a submission, each as a sentence naming the item (§3.2)."""
    answers = {a.item_id: a for a in inspection.answers.all()}
    missing = []
    items = (Item.objects.filter(template_id=inspection.template_id)
             .exclude(answer_type=AnswerType.DERIVED).order_by("section__order", "order", "id"))
    for item in items:
        answer = answers.get(item.pk)
        if answer is None:
            if item.required:
                missing.append(_("%(label)s: not answered.") % {"label": item.label})
            continue
        if answer.not_applicable:
            continue
        short = evidence_shortfall(item, answer.value, answer.evidence)
        if short:
            missing.append(_("%(label)s: evidence missing: %(what)s.")
                           % {"label": item.label, "what": ", ".join(map(str, short))})
    if Item.objects.filter(template_id=inspection.template_id).exclude(
            validation_rules=[]).exists():
        document, values, resolver, figures = rule_inputs(inspection)
        chinese = (get_language() or "").startswith("zh")
        missing += [_("%(code)s: %(message)s") % {
            "code": f.item, "message": f.message_zh if chinese else f.message_en}
            for f in rules.validation_failures(document, values, resolver, figures)]
    return missing


def _photo_controls(inspection: Inspection, *, policy, now) -> list:
    """The engine's photo controls (capture time inside the inspection window, position at
    the site) over the photos this inspection's answers cite. A control that cannot run says
    so (CONTROL_NOT_CONFIGURED / EVIDENCE_UNAVAILABLE), never a silent pass."""
    from apps.investigations.controls.geo import Site
    from apps.investigations.controls.messages import control_finding
    from apps.investigations.controls.photos import photo_findings
    from apps.investigations.controls.policies import ControlNotConfigured, severity
    from apps.investigations.evidence import evidence_source

    cited: set[str] = set()
    for answer in inspection.answers.select_related("item"):
        if answer.item.answer_type == AnswerType.PHOTO and isinstance(answer.value, list):
            cited |= {str(v) for v in answer.value}
        cited |= {str(v) for v in (answer.evidence or {}).get("photos") or []}
    if not cited:
        return []
    try:
        source = evidence_source()
        if source is None:
            return [control_finding(
                code="EVIDENCE_UNAVAILABLE",
                severity=severity(policy, "control.evidence.unavailable.severity"),
                message=_("No document checks are available: site photos could not be "
                          "verified."),
                explanation=_("No evidence source is registered."))]
        photos = [p for p in source.photos(inspection.application_id)
                  if str(p.document_id) in cited]
        enterprise = inspection.loan.enterprise
        site = (Site(enterprise.operating_lat, enterprise.operating_lng, "operating_address")
                if enterprise.operating_lat is not None and enterprise.operating_lng is not None
                else None)
        found = photo_findings(photos=photos, site=site, window_start=inspection.started_at,
                               window_end=now, policy=policy, answered_ids=cited)
        return found + _edited_reuse(inspection, source, cited, policy=policy)
    except ControlNotConfigured as exc:
        return [control_finding(code="CONTROL_NOT_CONFIGURED", severity="R2",
                                message=_("The photo control did not run: policy value "
                                          "%(key)s is not in force."),
                                explanation=_("Missing policy value %(key)s."), key=exc.key)]


def _edited_reuse(inspection: Inspection, source, cited: set[str], *, policy) -> list:
    """Issue 19: the inspection's cited photos against every photo of every file and stage,
    this loan's pre-loan visit included (an old picture passed off as a new visit)."""
    from apps.applications.models import Application
    from apps.investigations.controls.photo_edits import edited_reuse_findings, fingerprint_limits

    ids = [int(c) for c in cited if c.isdigit()]
    matches = source.edited_photo_reuse(inspection.application_id, **fingerprint_limits(policy),
                                        document_ids=ids, same_application=True)
    references = dict(Application.objects.filter(
        pk__in={m.other_application_id for m in matches}).values_list("pk", "reference"))
    return edited_reuse_findings(reuse=matches, references=references, policy=policy,
                                 own_application_id=inspection.application_id)


def _findings(inspection: Inspection, *, now) -> tuple[list[dict], list[dict]]:
    document, values, resolver, figures = rule_inputs(inspection)
    flags = rules.red_flags(document, values, resolver, figures)
    checks = rules.cross_checks(document, values, resolver, figures)
    # Issue 19: fresh statements or tax records that could not be read leave the cross-check
    # without its evidence; say the declared figures went unverified, as before the loan.
    from apps.investigations.controls.figures import unverified_figure_findings

    checks += unverified_figure_findings(document, values, inspection.application_id,
                                         policy=resolver)
    flags += _photo_controls(inspection, policy=resolver, now=now)

    def plain(findings) -> list[dict]:
        return json.loads(json.dumps([asdict(f) for f in findings], default=str))
    return plain(flags), plain(checks)


def _clean_conclusion(*, proposed_class: str, class_reason: str, actions, next_date,
                      today: dt.date) -> dict:
    """The structured conclusion (§4.2): classification proposal with a reason, actions from
    the fixed vocabulary (§4.4), and the next inspection date (not in the past)."""
    errors: dict[str, list[str]] = {}
    if proposed_class not in ProposedClass.values:
        errors["proposed_class"] = [_("Choose one of the five categories.")]
    class_reason = (class_reason or "").strip()
    if not class_reason:
        errors["class_reason"] = [_("Say why you propose this classification.")]
    actions = list(dict.fromkeys(actions or []))
    unknown = [a for a in actions if a not in RequestedAction.values]
    if unknown:
        errors["actions"] = [_("Choose actions from the list.")]
    if next_date is not None and next_date <= today:
        errors["next_inspection_date"] = [_("The next inspection must be after today.")]
    if errors:
        raise ValidationError(errors)
    return {"proposed_class": proposed_class, "class_reason": class_reason,
            "actions": actions, "next_inspection_date": next_date}


@transaction.atomic
def inspection_submit(*, inspection_id: int, actor, proposed_class: str, class_reason: str,
                      actions=(), next_inspection_date: dt.date | None = None) -> Inspection:
    """Submit once nothing is missing, with the officer's conclusion. The rules' red flags,
    cross-checks and photo controls computed now are stored for the reviewer; the W17
    (use of funds) and W18 (cooperation) values are taken from the answers, never retyped."""
    inspection = _lock(inspection_id)
    _check_in_scope(actor, inspection.branch_id)
    transition_check(inspection.submit, actor=actor)
    now = timezone.now()
    conclusion = _clean_conclusion(proposed_class=proposed_class, class_reason=class_reason,
                                   actions=actions, next_date=next_inspection_date,
                                   today=timezone.localdate(now))
    missing = inspection_missing(inspection)
    if missing:
        raise InspectionIncomplete(_("The inspection is not complete."),
                                   fields={"missing": missing})
    answers = {a.item.code: a for a in inspection.answers.select_related("item")
               if not a.not_applicable}
    funds = answers.get(FUNDS_ITEM)
    cooperation = answers.get(COOPERATION_ITEM)
    conclusion["funds_used_as_agreed"] = funds.value if funds is not None else None
    conclusion["cooperation"] = (cooperation.value if cooperation is not None
                                 and cooperation.value in Cooperation.values else "")
    flags, checks = _findings(inspection, now=now)
    source = inspection.state
    inspection.submit(by=actor, at=now, red_flags=flags, cross_check_findings=checks,
                      conclusion=conclusion)
    inspection.save()
    audit_record(action="inspection.submitted", actor=actor, subject=inspection,
                 payload={"from": source, "to": inspection.state,
                          "on_time": inspection.done_on_time,
                          "due_date": inspection.due_date.isoformat(),
                          "red_flags": [f["code"] for f in flags],
                          "cross_checks": [f["code"] for f in checks],
                          "conclusion": _conclusion_payload(inspection)})
    return inspection


def _conclusion_payload(inspection: Inspection) -> dict:
    return {"proposed_class": inspection.proposed_class, "class_reason": inspection.class_reason,
            "actions": inspection.actions,
            "funds_used_as_agreed": inspection.funds_used_as_agreed,
            "cooperation": inspection.cooperation,
            "next_inspection_date": (inspection.next_inspection_date.isoformat()
                                     if inspection.next_inspection_date else None)}


@transaction.atomic
def inspection_review(*, inspection_id: int, actor, note: str = "",
                      proposed_class: str | None = None, class_reason: str | None = None,
                      actions=None, next_inspection_date: dt.date | None = None) -> Inspection:
    """A second person (team lead or risk reviewer, never the inspecting officer) confirms the
    conclusion, correcting any part of it; the next routine check is then scheduled from it."""
    inspection = _lock(inspection_id)
    _check_in_scope(actor, inspection.branch_id)
    transition_check(inspection.review, actor=actor)
    conclusion = _clean_conclusion(
        proposed_class=proposed_class or inspection.proposed_class,
        class_reason=class_reason if class_reason is not None else inspection.class_reason,
        actions=actions if actions is not None else inspection.actions,
        next_date=(next_inspection_date if next_inspection_date is not None
                   else inspection.next_inspection_date),
        today=timezone.localdate())
    inspection.review(by=actor, at=timezone.now(), note=(note or "").strip(),
                      conclusion=conclusion)
    inspection.save()
    audit_record(action="inspection.reviewed", actor=actor, subject=inspection,
                 payload={"from": InspectionState.SUBMITTED, "to": inspection.state,
                          "note": inspection.review_note,
                          "conclusion": _conclusion_payload(inspection)})
    # Signals (W17, W18) and the proposed category go to the risk engine in this transaction.
    inspection_hooks.conclusion_reviewed(inspection, actor=actor)
    try:
        with transaction.atomic():  # a savepoint: a schedule gap must not undo the review
            _conclusion_next_check(inspection, actor=actor)
            inspection_schedule_generate(loan_id=inspection.loan_id, actor=actor)
    except ScheduleNotConfigured:
        pass  # the review stands; the daily sweep schedules the loan once policy is in force
    return inspection


def _conclusion_next_check(inspection: Inspection, *, actor) -> None:
    """The reviewed conclusion sets the next inspection date (§4.2): a routine check is due
    then unless another open check already comes on or before it."""
    day = inspection.next_inspection_date
    if day is None:
        return
    loan = (Loan.objects.select_for_update(no_key=True, of=("self",))
            .select_related("product_version")
            .get(pk=inspection.loan_id))
    earlier = (loan.inspections.filter(state__in=(InspectionState.SCHEDULED,
                                                  InspectionState.IN_PROGRESS,
                                                  InspectionState.OVERDUE), due_date__lte=day)
               .exclude(pk=inspection.pk).exists())
    if not earlier:
        _create(loan, kind=InspectionKind.ROUTINE, key=f"m2:{day.isoformat()}", due=day,
                basis={"conclusion": {"value": day.isoformat(), "inspection": inspection.pk}},
                actor=actor)


@transaction.atomic
def inspection_return(*, inspection_id: int, actor, note: str) -> Inspection:
    """Back to the officer with the reviewer's note (退回补正)."""
    inspection = _lock(inspection_id)
    _check_in_scope(actor, inspection.branch_id)
    transition_check(inspection.return_for_correction, actor=actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what must be corrected.")})
    inspection.return_for_correction(by=actor, at=timezone.now(), note=note)
    inspection.save()
    audit_record(action="inspection.returned", actor=actor, subject=inspection,
                 payload={"from": InspectionState.SUBMITTED, "to": inspection.state,
                          "note": note})
    return inspection


# --- overdue and escalation ---------------------------------------------------------------------


def _supervisors(inspection: Inspection):
    """The officer's supervisors: the team leads who see the loan's branch (as approvals
    escalates overdue steps)."""
    from apps.approvals.services.notifications import team_leads_of

    return team_leads_of(inspection)


def _mail(people, subject: str, body: str, inspection: Inspection) -> None:
    addresses = sorted({p.email for p in people if p.email})
    if not addresses:
        return
    link = settings.SITE_URL.rstrip("/") + reverse("monitoring:inspection_form",
                                                   args=[inspection.pk])
    messages = [(subject, f"{body}\n\n{link}", settings.DEFAULT_FROM_EMAIL, [address])
                for address in addresses]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))


@transaction.atomic
def inspection_mark_overdue(*, inspection_id: int, today: dt.date | None = None) -> bool:
    """Mark an inspection whose due date passed as overdue, and escalate it once: mail the
    officer's supervisors and raise the "inspection overdue" signal (§4.1: a missed deadline
    is itself a signal; §4.5 on-time rate). False when there is nothing to do (already marked,
    done, or not due): a sweep run twice escalates once."""
    today = today or timezone.localdate()
    inspection = (Inspection.objects.select_for_update(no_key=True, of=("self",), skip_locked=True)
                  .select_related("loan", "officer")
                  .filter(pk=inspection_id, overdue_at__isnull=True, due_date__lt=today,
                          state__in=(InspectionState.SCHEDULED, InspectionState.IN_PROGRESS))
                  .first())
    if inspection is None:
        return False
    now = timezone.now()
    source = inspection.state
    inspection.mark_overdue(at=now)
    inspection.escalated_at = now
    inspection.save()
    leads = _supervisors(inspection)
    loan = inspection.loan
    words = {"kind": inspection.get_kind_display(), "loan": loan.loan_number,
             "due": inspection.due_date.isoformat(), "officer": inspection.officer.display_name}
    _mail(leads, _("Overdue inspection: %(loan)s") % words,
          _("The %(kind)s of loan %(loan)s was due on %(due)s and has not been submitted by "
            "%(officer)s.") % words, inspection)
    signalled = inspection_hooks.raise_signal(
        loan.pk, code=inspection_hooks.INSPECTION_OVERDUE_SIGNAL, source="inspection",
        observed={"inspection": inspection.pk, "kind": inspection.kind,
                  "due_date": inspection.due_date.isoformat()})
    audit_record(action="inspection.overdue", actor=None, subject=inspection,
                 payload={"from": source, "to": inspection.state,
                          "due_date": inspection.due_date.isoformat(),
                          "escalated_to": [p.pk for p in leads], "signal_raised": signalled})
    return True


def inspections_overdue_mark(*, today: dt.date | None = None,
                             inspection_ids: list[int] | None = None) -> int:
    """Mark every inspection past its due date (or the given ones), each in its own
    transaction, so one failure does not undo the others."""
    from apps.monitoring.inspection_selectors import inspections_overdue

    today = today or timezone.localdate()
    ids = inspection_ids if inspection_ids is not None else list(
        inspections_overdue(today).filter(overdue_at__isnull=True).values_list("pk", flat=True))
    marked = 0
    for pk in ids:
        marked += inspection_mark_overdue(inspection_id=pk, today=today)
    return marked


def inspection_sweep(*, today: dt.date | None = None, chunk_size: int = 200) -> dict[str, int]:
    """The daily beat sweep: enqueue schedule generation for open loans in chunks of ids
    (tasks are idempotent, a re-send is harmless) and mark overdue inspections in chunks."""
    from apps.core.queue import enqueue_on_commit
    from apps.core.task_names import TaskName
    from apps.monitoring.inspection_selectors import inspections_overdue

    today = today or timezone.localdate()
    loans = list(Loan.objects.filter(state__in=OPEN_LOAN_STATES).order_by("pk")
                 .values_list("pk", flat=True))
    overdue = list(inspections_overdue(today).filter(overdue_at__isnull=True)
                   .order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        for start in range(0, len(loans), chunk_size):
            enqueue_on_commit(TaskName.MONITORING_INSPECTION_SCHEDULE_CHUNK,
                              loan_ids=loans[start:start + chunk_size],
                              today=today.isoformat())
        for start in range(0, len(overdue), chunk_size):
            enqueue_on_commit(TaskName.MONITORING_INSPECTION_OVERDUE_CHUNK,
                              inspection_ids=overdue[start:start + chunk_size],
                              today=today.isoformat())
    return {"loans": len(loans), "overdue": len(overdue)}


def inspection_schedule_chunk(*, loan_ids: list[int], today: dt.date | None = None) -> int:
    """Generate the schedule of each loan in the chunk; a loan whose policy is missing is
    skipped (the next sweep retries it) without stopping the others."""
    created = 0
    for loan_id in loan_ids:
        with contextlib.suppress(ScheduleNotConfigured, Loan.DoesNotExist):
            created += len(inspection_schedule_generate(loan_id=loan_id, today=today))
    return created

