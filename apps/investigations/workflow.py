"""Writes for investigations: assign, start, answer, check in/out, submit, accept, return,
reopen.

Every service is one transaction: lock → permission → state → change → save → audit
(CONVENTIONS §3). The two officers are distinct people (§3.1 双人调查); a risk reviewer who
neither investigated nor manages the file accepts or returns it (审贷分离). Answers carry a
version so two officers saving at once never overwrite each other silently, and a retried
autosave with the same content is a no-op (issue 4, form experience).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError, TransitionConflict
from apps.core.fsm import transition_check
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.investigations import rules
from apps.investigations.answers import answer_clean, evidence_clean, evidence_shortfall
from apps.investigations.evidence import FiguresResolver, external_findings
from apps.investigations.models import (
    Answer,
    AnswerType,
    ChecklistTemplate,
    Investigation,
    Item,
    ItemComment,
    SectionTiming,
    SiteCheckIn,
)
from apps.investigations.policy import PolicyResolver
from apps.investigations.services import template_export
from apps.investigations.states import ChecklistTemplateState, InvestigationState

EDITABLE_STATES = (InvestigationState.IN_PROGRESS, InvestigationState.RETURNED)


class AnswerConflict(DomainError):
    """Someone saved this item since the caller last read it; `fields` holds the current
    answer so the form can show both and let the officer choose (HTTP 409)."""

    code = "answer_conflict"
    status_code = 409


class InvestigationIncomplete(DomainError):
    """Submission refused; `fields["missing"]` lists everything still missing, at once."""

    code = "investigation_incomplete"
    status_code = 409


def _lock(investigation_id: int) -> Investigation:
    return (Investigation.objects.select_for_update(no_key=True, of=("self",))
            .select_related("application", "template").get(pk=investigation_id))


def _check_in_scope(actor, branch_id: int) -> None:
    branch_ids = visible_branch_ids(viewer=actor)
    if branch_ids is not None and branch_id not in branch_ids:
        raise PermissionDenied(_("This record belongs to another branch."))


def _require_officer(investigation: Investigation, actor) -> None:
    if actor is None or actor.pk not in investigation.officer_ids:
        raise PermissionDenied(_("Only the two assigned officers work on this investigation."))


def _require_editable(investigation: Investigation) -> None:
    if investigation.state not in EDITABLE_STATES:
        raise TransitionConflict(detail=_("Answers can only change while the investigation is "
                                          "in progress or returned for correction."))


def _template_for(application: Application, code: str | None = None) -> ChecklistTemplate:
    """The template named by the assigner (published, for this product or for any), else the
    product's published template, else the published default (§3.5)."""
    published = ChecklistTemplate.objects.filter(state=ChecklistTemplateState.PUBLISHED)
    product_id = application.product_version.product_id
    if code:
        template = (published.filter(code=code).filter(
            models.Q(product__isnull=True) | models.Q(product_id=product_id))
            .order_by("-version").first())
        if template is None:
            raise ValidationError({"template": _("No published checklist template with this "
                                                 "code applies to this product.")})
        return template
    template = (published.filter(product_id=product_id).order_by("-version").first()
                or published.filter(product__isnull=True, is_default=True)
                .order_by("-version").first())
    if template is None:
        raise DomainError(_("No checklist template is published for this product."))
    return template


@transaction.atomic
def investigation_assign(*, application_id: int, lead_officer, assisting_officer,
                         actor, template_code: str | None = None) -> Investigation:
    """Open the investigation of an application with two distinct account managers of its
    branch (§3.1 双人调查), on the template version in force now, kept for its whole life.
    `template_code` picks another published template (e.g. the IPC reconstruction or 5C)
    instead of the product's or the default one."""
    application = (Application.objects.select_for_update(no_key=True, of=("self",))
                   .select_related("product_version").get(pk=application_id))
    if not (actor.pk == application.account_manager_id or actor.has_role(Role.TEAM_LEAD)):
        raise PermissionDenied(_("Only the account manager or a team lead assigns the "
                                 "investigation."))
    _check_in_scope(actor, application.branch_id)
    if application.state not in (ApplicationState.SUBMITTED, ApplicationState.INVESTIGATING):
        raise TransitionConflict(detail=_("Only a submitted application under investigation "
                                          "can be assigned investigators."))
    if Investigation.objects.filter(application=application).exists():
        raise TransitionConflict(detail=_("This application already has an investigation."))
    errors = {}
    for field, officer in (("lead_officer", lead_officer),
                           ("assisting_officer", assisting_officer)):
        if not (officer.is_active and officer.has_role(Role.ACCOUNT_MANAGER)
                and officer.branch_id == application.branch_id):
            errors[field] = _("Choose an account manager of the application's branch.")
    if lead_officer.pk == assisting_officer.pk:
        errors["assisting_officer"] = _("The lead and the assisting officer must be two "
                                        "different people.")
    if errors:
        raise ValidationError(errors)
    template = _template_for(application, template_code)
    investigation = Investigation.objects.create(
        application=application, template=template, lead_officer=lead_officer,
        assisting_officer=assisting_officer, assigned_by=actor)
    audit_record(action="investigation.assigned", actor=actor, subject=investigation,
                 payload={"application": application.pk, "reference": application.reference,
                          "template": f"{template.code} v{template.version}",
                          "lead_officer": lead_officer.pk,
                          "assisting_officer": assisting_officer.pk})
    return investigation


@transaction.atomic
def investigation_start(*, investigation_id: int, actor) -> Investigation:
    """One of the officers opens the form; answers may be saved from now on."""
    investigation = _lock(investigation_id)
    transition_check(investigation.start, actor=actor)
    investigation.start(at=timezone.now())
    investigation.save()
    audit_record(action="investigation.started", actor=actor, subject=investigation,
                 payload={"from": InvestigationState.ASSIGNED, "to": investigation.state})
    return investigation


def _answer_payload(answer: Answer | None) -> dict:
    if answer is None:
        return {"version": None, "value": None, "not_applicable": False, "na_reason": ""}
    return {"version": answer.version, "value": answer.value,
            "not_applicable": answer.not_applicable, "na_reason": answer.na_reason,
            "evidence": answer.evidence, "answered_by": answer.answered_by_id}


@transaction.atomic
def answer_save(*, investigation_id: int, item_code: str, value=None,
                not_applicable: bool = False, na_reason: str = "",
                expected_version: int | None = None, actor, evidence=None) -> Answer:
    """Save (autosave) one answer.

    Idempotent: saving what is already stored changes nothing, so a retry after a dropped
    connection is harmless. Otherwise `expected_version` must be the version the caller read
    (None for a first answer): a stale one raises `AnswerConflict` with the current answer, so
    two officers never overwrite each other silently. "Not applicable" needs the item to allow
    it and a reason (§3.2).
    """
    investigation = _lock(investigation_id)
    _require_officer(investigation, actor)
    _require_editable(investigation)
    item = Item.objects.filter(template_id=investigation.template_id, code=item_code).first()
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

    answer = (Answer.objects.select_for_update(no_key=True)
              .filter(investigation=investigation, item=item).first())
    if answer is not None and (answer.value, answer.not_applicable, answer.na_reason,
                               answer.evidence) == (clean, bool(not_applicable), na_reason,
                                                    clean_evidence):
        return answer  # a retried save: already stored
    current = answer.version if answer is not None else None
    if expected_version != current:
        raise AnswerConflict(
            _("Someone else changed this answer; review the current one before saving."),
            fields={"item": item_code, "current": _answer_payload(answer)})
    old = _answer_payload(answer)
    if answer is None:
        answer = Answer(investigation=investigation, item=item, version=1)
    else:
        answer.version += 1
    answer.value, answer.evidence = clean, clean_evidence
    answer.not_applicable, answer.na_reason = bool(not_applicable), na_reason
    answer.answered_by = actor
    answer.save()
    _section_timing_touch(investigation.pk, item.section_id, answer.updated_at)
    audit_record(action="investigation.answer_saved", actor=actor, subject=investigation,
                 payload={"item": item_code, "version": answer.version,
                          "old": {k: old[k] for k in ("value", "not_applicable", "na_reason")},
                          "new": {"value": clean, "not_applicable": bool(not_applicable),
                                  "na_reason": na_reason}})
    return answer


def _section_timing_touch(investigation_id: int, section_id: int, at) -> None:
    """Record the autosave in its section's first/last timestamps (issue 4: time per section).
    One UPDATE in the common case; the investigation row is locked, so no race on create."""
    updated = (SectionTiming.objects.filter(investigation_id=investigation_id,
                                            section_id=section_id)
               .update(last_saved_at=at, saves=F("saves") + 1))
    if not updated:
        SectionTiming.objects.create(investigation_id=investigation_id, section_id=section_id,
                                     first_saved_at=at, last_saved_at=at)


def _coordinate(raw, field: str, limit: int) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, TypeError):
        raise ValidationError({field: _("Enter a coordinate in degrees.")}) from None
    if not value.is_finite() or abs(value) > limit:
        raise ValidationError({field: _("Enter a coordinate in degrees.")})
    return value.quantize(Decimal("0.000001"))


@transaction.atomic
def site_check_in(*, investigation_id: int, officer, lat, lng,
                  accuracy_m=None) -> SiteCheckIn:
    """An officer checks in at the site visit with the phone's position (现场签到)."""
    investigation = _lock(investigation_id)
    _require_officer(investigation, officer)
    _require_editable(investigation)
    check_in = SiteCheckIn.objects.create(
        investigation=investigation, officer=officer, at=timezone.now(),
        lat=_coordinate(lat, "lat", 90), lng=_coordinate(lng, "lng", 180),
        accuracy_m=None if accuracy_m is None else Decimal(str(accuracy_m)))
    audit_record(action="investigation.site_checked_in", actor=officer, subject=investigation,
                 payload={"lat": str(check_in.lat), "lng": str(check_in.lng),
                          "accuracy_m": None if accuracy_m is None else str(accuracy_m)})
    return check_in


@transaction.atomic
def site_check_out(*, investigation_id: int, officer, lat, lng) -> SiteCheckIn:
    """An officer leaves the site: closes their open check-in, so the time on site is known
    (§3.4 minimum time on site). Each of the two officers checks out for themselves."""
    investigation = _lock(investigation_id)
    _require_officer(investigation, officer)
    _require_editable(investigation)
    out_lat, out_lng = _coordinate(lat, "lat", 90), _coordinate(lng, "lng", 180)
    check_in = (SiteCheckIn.objects.select_for_update(no_key=True)
                .filter(investigation=investigation, officer=officer, checked_out_at__isnull=True)
                .order_by("-at").first())
    if check_in is None:
        raise TransitionConflict(detail=_("You have no open check-in at the site to close."))
    check_in.checked_out_at, check_in.out_lat, check_in.out_lng = timezone.now(), out_lat, out_lng
    check_in.save(update_fields=["checked_out_at", "out_lat", "out_lng"])
    minutes = (check_in.checked_out_at - check_in.at).total_seconds() / 60
    audit_record(action="investigation.site_checked_out", actor=officer, subject=investigation,
                 payload={"lat": str(out_lat), "lng": str(out_lng),
                          "check_in": check_in.pk, "minutes_on_site": round(minutes)})
    return check_in


def _rule_inputs(investigation: Investigation):
    """The template document, the values the rules see (answers, N/A as unknown, derived
    values) and the resolvers used, so every caller evaluates the same way."""
    document = template_export(investigation.template)
    answers = {a.item.code: a.value for a in investigation.answers.select_related("item")
               if not a.not_applicable}
    resolver = PolicyResolver()
    figures = FiguresResolver(investigation.application_id)
    values = rules.derived_values(document, answers, resolver, figures)
    return document, values, resolver, figures


@dataclass(frozen=True)
class Missing:
    """One thing that stops a submission: the item concerned (None for a check-in) and what is
    wrong with it, without the item's code — the form names the item by its label and links
    to its question; `str()` is the sentence the API returns (code first, for searching)."""

    item: Item | None
    reason: str

    def __str__(self) -> str:
        if self.item is None:
            return self.reason
        return _("%(code)s: %(message)s") % {"code": self.item.code, "message": self.reason}


def investigation_missing(investigation: Investigation) -> list[Missing]:
    """Everything that stops a submission, each naming its item (§3.2): required items
    unanswered, N/A not allowed or without a reason, evidence short, an answer failing one of
    its item's validation rules, check-ins missing. In the form's order."""
    answers = {a.item_id: a for a in investigation.answers.all()}
    missing = []
    items = list(Item.objects.filter(template_id=investigation.template_id)
                 .exclude(answer_type=AnswerType.DERIVED).select_related("section")
                 .order_by("section__order", "order", "id"))
    for item in items:
        answer = answers.get(item.pk)
        if answer is None:
            if item.required:
                missing.append(Missing(item, _("not answered.")))
            continue
        if answer.not_applicable:
            if not item.na_allowed:
                missing.append(Missing(item, _("cannot be not applicable.")))
            elif not answer.na_reason.strip():
                missing.append(Missing(item, _("not applicable without a reason.")))
            continue
        short = evidence_shortfall(item, answer.value, answer.evidence)
        if short:
            missing.append(Missing(item, _("evidence missing: %(what)s.")
                                   % {"what": ", ".join(short)}))
    missing += _validation_missing(investigation, {item.code: item for item in items})
    checked_in = set(investigation.check_ins.values_list("officer_id", flat=True))
    for officer_id, role in ((investigation.lead_officer_id, _("lead officer")),
                             (investigation.assisting_officer_id, _("assisting officer"))):
        if officer_id not in checked_in:
            missing.append(Missing(None, _("The %(role)s has not checked in at the site.")
                                   % {"role": role}))
    return missing


def _validation_missing(investigation: Investigation, items: dict) -> list[Missing]:
    """Validation rules of the answered items (the template's `validation_rules`), each
    failure on its item with the rule's own message in the reader's language."""
    if not Item.objects.filter(template_id=investigation.template_id).exclude(
            validation_rules=[]).exists():
        return []
    document, values, resolver, figures = _rule_inputs(investigation)
    chinese = (get_language() or "").startswith("zh")
    missing = []
    for failure in rules.validation_failures(document, values, resolver, figures):
        message = failure.message_zh if chinese else failure.message_en
        item = items.get(failure.item)
        missing.append(Missing(item, message) if item is not None else Missing(
            None, _("%(code)s: %(message)s") % {"code": failure.item, "message": message}))
    return missing


def _findings(investigation: Investigation, *, now) -> tuple[list[dict], list[dict]]:
    """Run the template's rules over the answers (N/A answers count as unknown) and the
    evidence figures, then the anti-box-ticking controls; control findings are stored with
    the red flags (kind "control")."""
    from apps.investigations.controls import run_controls

    document, values, resolver, figures = _rule_inputs(investigation)
    flags = rules.red_flags(document, values, resolver, figures)
    checks = rules.cross_checks(document, values, resolver, figures)
    checks += external_findings(investigation.application_id, policy=resolver)
    from apps.investigations.controls.figures import unverified_figure_findings

    checks += unverified_figure_findings(document, values, investigation.application_id,
                                         policy=resolver)
    flags += run_controls(investigation, policy=resolver, now=now)

    def plain(findings) -> list[dict]:
        return json.loads(json.dumps([asdict(f) for f in findings], default=str))
    return plain(flags), plain(checks)


@transaction.atomic
def investigation_submit(*, investigation_id: int, actor) -> Investigation:
    """Submit (or resubmit after a return) once nothing is missing; the red flags and
    cross-check findings computed now are stored for the reviewer (§3.5)."""
    investigation = _lock(investigation_id)
    transition_check(investigation.submit, actor=actor)
    missing = investigation_missing(investigation)
    if missing:
        raise InvestigationIncomplete(_("The investigation is not complete."),
                                      fields={"missing": [str(m) for m in missing]})
    now = timezone.now()
    flags, checks = _findings(investigation, now=now)
    source = investigation.state
    investigation.submit(at=now, red_flags=flags, cross_check_findings=checks)
    investigation.save()
    audit_record(action="investigation.submitted", actor=actor, subject=investigation,
                 payload={"from": source, "to": investigation.state,
                          "round": investigation.submission_count,
                          "red_flags": [f["code"] for f in flags],
                          "cross_checks": [f["code"] for f in checks]})
    return investigation


def _require_reviewer(investigation: Investigation, actor) -> None:
    """Independence itself is the transitions' permission (`reviewer_is_independent`)."""
    _check_in_scope(actor, investigation.application.branch_id)


@transaction.atomic
def investigation_accept(*, investigation_id: int, actor, comment: str = "") -> Investigation:
    """An independent risk reviewer accepts the investigation; the application may then go
    to review (the send_to_review guard). A policy-rate sample is drawn for re-verification
    by a team lead (§3.4), and scoring is sent by name once this commits."""
    from apps.investigations.controls.policies import ControlNotConfigured
    from apps.investigations.controls.reverification import reverification_sample

    investigation = _lock(investigation_id)
    transition_check(investigation.accept, actor=actor)
    _require_reviewer(investigation, actor)
    investigation.accept(by=actor, at=timezone.now())
    investigation.save()
    try:
        sampled = reverification_sample(investigation=investigation, policy=PolicyResolver())
        reverification = sampled.pk if sampled is not None else None
    except ControlNotConfigured as exc:
        # Acceptance is the reviewer's judgement and must not fail on a missing sample
        # rate; the gap is recorded in the event for the auditors instead.
        reverification = f"not configured: {exc.key}"
    audit_record(action="investigation.accepted", actor=actor, subject=investigation,
                 payload={"from": InvestigationState.SUBMITTED, "to": investigation.state,
                          "comment": comment, "reverification": reverification})
    enqueue_on_commit(TaskName.APPLICATION_SCORE, application_id=investigation.application_id)
    return investigation


def investigation_reopen_on_return(application, *, actor, comment: str = "") -> None:
    """Hook on the application's `return_for_rework` (registered in AppConfig.ready, run in
    that move's transaction): the accepted investigation goes back to its officers with the
    reviewer's reason, so they can correct it and resubmit."""
    investigation = (Investigation.objects.select_for_update(no_key=True)
                     .filter(application_id=application.pk).first())
    if investigation is None or investigation.state != InvestigationState.ACCEPTED:
        return
    investigation.reopen(at=timezone.now(), reason=comment)
    investigation.save()
    audit_record(action="investigation.reopened", actor=actor, subject=investigation,
                 payload={"from": InvestigationState.ACCEPTED, "to": investigation.state,
                          "reason": comment, "application": application.pk})


@transaction.atomic
def investigation_return(*, investigation_id: int, actor,
                         comments: dict[str, str]) -> Investigation:
    """Return to the officers with a comment per item (退回补正); they correct and resubmit."""
    investigation = _lock(investigation_id)
    transition_check(investigation.return_for_correction, actor=actor)
    _require_reviewer(investigation, actor)
    comments = {code: (text or "").strip() for code, text in (comments or {}).items()}
    comments = {code: text for code, text in comments.items() if text}
    if not comments:
        raise ValidationError({"comments": _("Say, item by item, what must be corrected.")})
    items = {i.code: i for i in Item.objects.filter(template_id=investigation.template_id,
                                                    code__in=comments)}
    unknown = sorted(set(comments) - set(items))
    if unknown:
        raise ValidationError({code: _("This checklist has no such item.") for code in unknown})
    ItemComment.objects.bulk_create([
        ItemComment(investigation=investigation, item=items[code], author=actor, text=text,
                    round=investigation.submission_count) for code, text in comments.items()])
    investigation.return_for_correction(by=actor, at=timezone.now())
    investigation.save()
    audit_record(action="investigation.returned", actor=actor, subject=investigation,
                 payload={"from": InvestigationState.SUBMITTED, "to": investigation.state,
                          "comments": comments})
    return investigation


# --- wiring into the application's workflow (registered in AppConfig.ready) -----------------


def investigation_accepted_guard(application) -> str | None:
    """send_to_review: the application cannot leave investigating before acceptance."""
    state = (Investigation.objects.filter(application_id=application.pk)
             .values_list("state", flat=True).first())
    if state == InvestigationState.ACCEPTED:
        return None
    if state is None:
        return _("No investigation has been assigned yet.")
    return _("The investigation has not been accepted by a risk reviewer yet.")


def investigation_officer_ids(application) -> set[int]:
    """Both officers are conflicted for review and approval of the file they investigated."""
    row = (Investigation.objects.filter(application_id=application.pk)
           .values_list("lead_officer_id", "assisting_officer_id").first())
    return set(row) if row else set()
