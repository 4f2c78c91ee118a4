"""The evidence pack of an exemption case, frozen as it stood when the case opened.

§4.6 (金规〔2024〕11号): diligence is judged by the rules in force *when the loan was handled*,
so the duties are evaluated under the duty-rule set effective on the day the loan was
approved, and the policy versions in force that day are recorded. The result, with the people
involved and their written dissent, is stored as canonical JSON and its SHA-256: later changes
to the trail's rows or the rules cannot rewrite what the committee judged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict

from django.utils import timezone, translation

from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.approvals.models import ReviewOpinion, SignOff, Vote, VoteChoice
from apps.audit.chain import canonical_json
from apps.core.policy import PolicyVersionState
from apps.investigations.models import Investigation
from apps.investigations.policy import policy_values_in_force
from apps.loans.models import Loan
from apps.oversight import duties
from apps.oversight.duties import DutyResult, PackContext
from apps.oversight.exemption_states import Stage, Tier
from apps.oversight.models import DutyRuleSet
from apps.oversight.trail import application_trail_events

# Trail actions whose actors took part in a stage even where the record rows are absent
# (the approvals app is optional for the pack, as in duties.py).
_STAGE_OF_ACTION = {
    "investigation.accepted": (Stage.REVIEW, "Investigation reviewer"),
    "investigation.returned": (Stage.REVIEW, "Investigation reviewer"),
    "review.opinion_recorded": (Stage.REVIEW, "Credit reviewer"),
    "application.sent_to_approval": (Stage.REVIEW, "Credit reviewer"),
    "application.approved": (Stage.APPROVAL, "Approver"),
    "approval.signed": (Stage.APPROVAL, "Approver"),
    "committee.vote_cast": (Stage.APPROVAL, "Credit committee member"),
}


def handled_on(loan: Loan, application: Application) -> dt.date:
    """The day the loan was handled: its approval, or failing that its value date."""
    if application.decided_at is not None:
        return timezone.localdate(application.decided_at)
    return loan.value_date


def rule_set_for(on: dt.date) -> tuple[DutyRuleSet | None, bool]:
    """The duty rules in force on `on`; when none was yet (a loan older than the first
    version), the earliest version, flagged so the pack says so."""
    in_force = duties.rule_set_in_force(on=on)
    if in_force is not None:
        return in_force, False
    return (DutyRuleSet.objects.exclude(state=PolicyVersionState.DRAFT).order_by("version")
            .first(), True)


def _evaluate(rule_set: DutyRuleSet | None, ctx: PackContext) -> list[dict]:
    lines = []
    for rule in (rule_set.rules.all() if rule_set else []):
        # duties.py keeps its evaluators in a registry; the rule names one by code.
        evaluator = duties._evaluators.get(rule.evaluator)
        if evaluator is None:
            result = DutyResult(duties.NOT_FULFILLED, exceptions=[
                f"Rule {rule.code} names an unknown evaluator {rule.evaluator}."])
        else:
            result = evaluator(ctx, rule.parameters or {})
        lines.append({"code": rule.code, "label_en": rule.label_en, "label_zh": rule.label_zh,
                      "evaluator": rule.evaluator, "parameters": rule.parameters or {},
                      "status": result.status, "exceptions": [str(e) for e in result.exceptions],
                      "evidence": [[str(text), url] for text, url in result.evidence],
                      "events": list(result.events)})
    return lines


def _add(people: OrderedDict, user, stage: str, role: str, what: str = "") -> None:
    if user is None:
        return
    entry = people.setdefault(user.pk, {"user_id": user.pk, "name": user.display_name,
                                        "username": user.username, "involvements": [],
                                        "dissent": []})
    # One line per (stage, role): the records' line wins over the trail's event fallback.
    if not any(i["stage"] == str(stage) and i["role"] == role for i in entry["involvements"]):
        entry["involvements"].append({"stage": str(stage), "role": role, "what": what})


def people_involved(loan: Loan, application: Application, investigation, events) -> OrderedDict:
    """Staff in the scope of 金规〔2024〕11号, from the records and the audit trail, in the
    order of the stages they acted in."""
    people: OrderedDict = OrderedDict()
    _add(people, application.account_manager, Stage.MARKETING, "Account manager",
         f"application {application.reference}")
    if investigation is not None:
        _add(people, investigation.lead_officer, Stage.INVESTIGATION, "Lead investigator")
        _add(people, investigation.assisting_officer, Stage.INVESTIGATION,
             "Assisting investigator")
        _add(people, investigation.reviewed_by, Stage.REVIEW, "Investigation reviewer")
    for opinion in (ReviewOpinion.objects.filter(application=application)
                    .select_related("reviewer").order_by("created_at")):
        _add(people, opinion.reviewer, Stage.REVIEW, "Credit reviewer",
             f"opinion: {opinion.get_outcome_display()}")
    for sign_off in (SignOff.objects.filter(route__application=application)
                     .select_related("signer").order_by("signed_at")):
        _add(people, sign_off.signer, Stage.APPROVAL, "Approver",
             f"decision: {sign_off.get_decision_display()}")
    for vote in (Vote.objects.filter(route__application=application)
                 .select_related("member").order_by("cast_at")):
        _add(people, vote.member, Stage.APPROVAL, "Credit committee member",
             f"vote: {vote.get_choice_display()}")
    for event in events:
        if event.action in _STAGE_OF_ACTION and event.actor is not None:
            stage, role = _STAGE_OF_ACTION[event.action]
            _add(people, event.actor, stage, role, f"event {event.seq}")
    disbursement = loan.disbursement
    _add(people, loan.contract.created_by, Stage.DISBURSEMENT, "Contract preparer")
    _add(people, disbursement.requested_by, Stage.DISBURSEMENT, "Disbursement maker")
    _add(people, disbursement.decided_by, Stage.DISBURSEMENT, "Disbursement checker")
    _add(people, loan.officer, Stage.POST_LOAN, "Post-loan officer")
    return people


def written_dissent(application: Application) -> list[dict]:
    """Signed, written objections the decision went past (§4.6 "written dissent"): committee
    votes against an approval, and reviewers' opinions returning a file that was approved
    all the same."""
    approved = application.state in (ApplicationState.APPROVED, ApplicationState.CONTRACTED,
                                     ApplicationState.DISBURSED)
    records = []
    if not approved:
        return records
    for vote in Vote.objects.filter(route__application=application).order_by("cast_at"):
        if vote.choice == VoteChoice.REJECT or vote.is_dissent:
            records.append({"user_id": vote.member_id, "kind": "committee_vote_against",
                            "record": f"approvals.vote:{vote.pk}", "at": vote.cast_at,
                            "text": vote.opinion, "signature": vote.signature})
    for opinion in ReviewOpinion.objects.filter(application=application,
                                                outcome=ReviewOpinion.Outcome.RETURN):
        records.append({"user_id": opinion.reviewer_id, "kind": "review_objection",
                        "record": f"approvals.reviewopinion:{opinion.pk}",
                        "at": opinion.created_at,
                        "text": opinion.comment or opinion.risks, "signature": ""})
    return records


def pack_freeze(loan: Loan, *, incident: str, note: str = "") -> tuple[dict, str]:
    """Assemble the pack (in English, so the stored text and its hash do not depend on the
    opener's language) and return (canonical JSON value, SHA-256)."""
    application = loan.application
    on = handled_on(loan, application)
    rule_set, fallback = rule_set_for(on)
    events = list(application_trail_events(application.pk))
    investigation = (Investigation.objects.filter(application=application)
                     .select_related("lead_officer", "assisting_officer", "reviewed_by")
                     .prefetch_related("answers").first())
    with translation.override("en"):
        ctx = PackContext(application=application, investigation=investigation, events=events)
        duty_lines = _evaluate(rule_set, ctx)
        people = people_involved(loan, application, investigation, events)
    dissent = written_dissent(application)
    all_fulfilled = all(line["status"] in (duties.FULFILLED, duties.NOT_APPLICABLE)
                        for line in duty_lines)
    for record in dissent:
        if record["user_id"] in people:
            people[record["user_id"]]["dissent"].append(record)
    for entry in people.values():
        # Written dissent exempts (§4.6); a clean pack proposes 应免责 "absent firm evidence
        # of violation". Otherwise the committee starts from no proposal.
        entry["proposed_tier"] = (Tier.FULL.value if entry["dissent"] or all_fulfilled
                                  else "")
    policy = policy_values_in_force(on=on)
    pack = {
        "format": 1,
        "frozen_at": timezone.now(),
        "incident": incident, "incident_note": note,
        "loan": {"id": loan.pk, "number": loan.loan_number, "state": loan.state,
                 "principal": loan.principal, "outstanding_principal": loan.outstanding_principal,
                 "dpd_principal": loan.dpd_principal, "dpd_interest": loan.dpd_interest,
                 "value_date": loan.value_date, "maturity_date": loan.maturity_date},
        "application": {"id": application.pk, "reference": application.reference,
                        "enterprise": application.enterprise.name,
                        "branch": application.branch.name},
        "handled_on": on,
        "rule_set": ({"version": rule_set.version, "effective_from": rule_set.effective_from,
                      "source_citation": rule_set.source_citation,
                      "in_force_when_handled": not fallback} if rule_set else None),
        "duties": duty_lines,
        "all_fulfilled": all_fulfilled,
        "head_seq": events[-1].seq if events else None,
        "head_hash": events[-1].hash if events else None,
        "policy_versions": {key: {"version": row.version, "value": row.value, "unit": row.unit,
                                  "evidence": row.evidence}
                            for key, row in sorted(policy.items())},
        "people": list(people.values()),
    }
    value = json.loads(canonical_json(pack))
    return value, pack_digest(value)


def pack_digest(pack: dict) -> str:
    """SHA-256 of the pack's canonical JSON: what the case stores and the PDF prints."""
    return hashlib.sha256(canonical_json(pack).encode()).hexdigest()
