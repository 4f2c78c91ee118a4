"""The rest of the demo's working day: one honest object of every kind a page shows, so every
page of the product has something to show (and the page sweep of issue #18 reads it).

Made as the staff and the scheduled jobs make them, through the real services: the system
installs the shipped scoring model, a risk reviewer trains a model on a CSV of historical
loans and re-scores the book, a committee member puts the waiting file on a session's agenda,
a post-loan officer types a covenant and the daily covenant sweep schedules checks and annual
reviews, the daily exemption sweep opens the written-off loan's case, an auditor exports that
file's trail, an administrator sends a task probe, a team lead imports the month's court
enforcement list and asks for one accepted file to be re-verified, and a policy officer starts
the next version of each policy the workbench edits. The jobs' tasks, also sent on commit,
find their work done (each is idempotent).

Idempotent: each part is skipped when its kind of object exists.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.utils import timezone

from apps.accounts.models import User


def seed_demo_extras(*, today: dt.date) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in (_scoring, _committee_session, _covenants, _exemption_cases, _audit_export,
                 _task_probe, _court_list, _reverification_request, _policy_drafts):
        counts.update(part(today))
    return counts


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _scoring(today) -> dict[str, int]:
    """The shipped model as champion (the system installs it before the first score), a
    challenger trained on a CSV of historical loans, and the book re-scored with the champion."""
    from apps.scoring import services
    from apps.scoring.models import RescoringJob, TrainingJob
    from apps.scoring.synthetic import TARGET, write_csv

    services.champion_ensure()
    counts = {}
    reviewer = _user("reviewer.north")
    if not TrainingJob.objects.exists():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "historical-loans.csv"
            write_csv(path, 700, seed=8)
            job = services.training_job_start(
                actor=reviewer, kind="scorecard", seed=3, content=path.read_bytes(),
                filename="historical-loans.csv", target=TARGET)
        services.training_job_run(job_id=job.pk)
        counts["training jobs"] = 1
    if not RescoringJob.objects.exists():
        job = services.rescoring_start(actor=reviewer)
        services.rescoring_run(job_id=job.pk)
        counts["re-scorings"] = 1
    return counts


def _committee_session(today) -> dict[str, int]:
    """Each committee with files waiting puts them on its next session's agenda (three days
    from now); the north branch committee's regular session is on the calendar even when
    nothing waits for it yet (its agenda is then set as files arrive)."""
    from apps.approvals.models import ApprovalStep, Committee, CommitteeMember, CommitteeSession
    from apps.approvals.services.committee import committee_session_schedule
    from apps.approvals.states import StepState

    if CommitteeSession.objects.exists():
        return {}
    waiting: dict[int, list[int]] = {}
    for step_id, committee_id in (ApprovalStep.objects.filter(
            state=StepState.WAITING, committee__isnull=False).order_by("pk")
            .values_list("pk", "committee_id")):
        waiting.setdefault(committee_id, []).append(step_id)
    north = Committee.objects.filter(code="north-credit-committee").first()
    if north is not None:
        waiting.setdefault(north.pk, [])
    when = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=3), dt.time(14)))
    sessions = 0
    for committee in Committee.objects.filter(pk__in=waiting).order_by("pk"):
        member = (CommitteeMember.objects.filter(committee=committee).order_by("pk")
                  .select_related("user").first())
        if member is None:
            continue
        committee_session_schedule(committee=committee, scheduled_for=when,
                                   step_ids=waiting[committee.pk], actor=member.user)
        sessions += 1
    return {"committee sessions": sessions}


def _covenants(today) -> dict[str, int]:
    """A covenant the contract states in prose, typed by the post-loan officer, then the daily
    covenant sweep over the open loans (checks due, annual reviews)."""
    from apps.loans.models import Loan
    from apps.loans.states import OPEN_LOAN_STATES
    from apps.monitoring.covenant_services import covenant_add, covenant_sweep_chunk
    from apps.monitoring.covenant_states import CovenantKind
    from apps.monitoring.models import Covenant

    open_loans = list(Loan.objects.filter(state__in=OPEN_LOAN_STATES).order_by("pk")
                      .values_list("pk", "branch__code"))
    if not open_loans or Covenant.objects.exists():
        return {}
    north = [pk for pk, branch in open_loans if branch == "north"]
    if north:
        covenant_add(loan_id=north[0], actor=_user("postloan.north"),
                     kind=CovenantKind.INFORMATION,
                     text="Send the monthly VAT returns within 15 days of each month end.")
    totals = covenant_sweep_chunk(loan_ids=[pk for pk, _branch in open_loans], today=today)
    return {"covenants": 1 if north else 0, "covenant checks": totals.get("checks", 0),
            "annual reviews": totals.get("reviews", 0)}


def _exemption_cases(today) -> dict[str, int]:
    """The daily exemption sweep: the written-off and non-performing loans get their case."""
    from apps.oversight.exemption_services import exemption_cases_sweep
    from apps.oversight.models import ExemptionCase

    if ExemptionCase.objects.exists():
        return {}
    return {"exemption cases": exemption_cases_sweep()["opened"]}


def _audit_export(today) -> dict[str, int]:
    """The auditor exports the audit trail of a file that went bad (else of any north file)."""
    from apps.applications.models import Application
    from apps.oversight import services
    from apps.oversight.models import ExemptionCase, ExportJob
    from apps.oversight.states import ExportKind

    if ExportJob.objects.exists():
        return {}
    case = ExemptionCase.objects.filter(branch__code="north").order_by("pk").first()
    application_id = case.application_id if case else (
        Application.objects.filter(branch__code="north").order_by("pk")
        .values_list("pk", flat=True).first())
    if application_id is None:
        return {}
    job = services.export_job_request(kind=ExportKind.EVENTS_XLSX,
                                      actor=_user("auditor.north"),
                                      filters={"application_id": application_id})
    services.export_job_run(job_id=job.pk)
    return {"audit exports": 1}


def _task_probe(today) -> dict[str, int]:
    """The administrator's first check that a worker runs what the web sends."""
    from apps.core.models import TaskProbe
    from apps.web.services import task_probe_send

    if TaskProbe.objects.exists():
        return {}
    task_probe_send(actor=_user("admin.north"))
    return {"task probes": 1}


def _court_list(today) -> dict[str, int]:
    """The month's court enforcement export, imported by the north team lead: one applicant
    has a case, settled two years ago (a file read with its history, not a refusal)."""
    from apps.applications.models import Application
    from apps.applications.states import ApplicationState as S
    from apps.datahub.imports import file_import
    from apps.datahub.models import Pull
    from apps.datahub.states import Purpose

    if Pull.objects.exists():
        return {}
    application = (Application.objects.filter(branch__code="north", state=S.SUBMITTED)
                   .select_related("enterprise").order_by("pk").first())
    if application is None:
        return {}
    settled = today.replace(day=1) - dt.timedelta(days=730)
    rows = ("uscc,list,case_no,court,date,amount,status,obligation\n"
            f"{application.enterprise.uscc},enforcement,({settled.year})沪0101执412号,"
            f"上海市黄浦区人民法院,{settled.isoformat()},48000,closed,\n")
    result = file_import(source="court", name=f"court-enforcement-{today:%Y-%m}.csv",
                         data=rows.encode(), purpose=Purpose.PRE_LOAN,
                         actor=_user("lead.north"))
    return {"court list pulls": len(result.pulls)}


def _reverification_request(today) -> dict[str, int]:
    """The north team lead doubts one accepted file (the latest accepted investigation of the
    branch not yet re-verified) and asks for its re-verification, which is then on his list
    (the random sample on acceptance may or may not have drawn another)."""
    from apps.investigations.controls.reverification import reverification_request
    from apps.investigations.models import Investigation, ReVerification
    from apps.investigations.states import InvestigationState

    if ReVerification.objects.filter(requested_by__isnull=False).exists():
        return {}
    lead = _user("lead.north")
    investigation = (Investigation.objects.filter(
        state=InvestigationState.ACCEPTED, application__branch__code="north",
        reverification__isnull=True).exclude(lead_officer=lead).exclude(assisting_officer=lead)
        .order_by("-accepted_at", "-pk").first())
    if investigation is None:
        return {}
    reverification_request(
        investigation_id=investigation.pk, actor=lead,
        reason="The declared sales rose faster than the electricity used; call the two "
               "largest customers named in the file to confirm the orders.")
    return {"re-verifications requested": 1}


def _policy_drafts(today) -> dict[str, int]:
    """The north policy officer's next versions, waiting for a second officer to publish
    them (four-eyes): the authority matrix, the due-diligence duties, the decision policy and
    one product's document requirements."""
    from apps.approvals.models import AuthorityMatrix
    from apps.approvals.services.matrix import authority_matrix_draft_next
    from apps.documents.models import DocumentRequirement, DocumentRequirementSet
    from apps.documents.requirement_services import requirement_set_draft
    from apps.oversight.duty_rule_services import duty_rule_set_draft_next
    from apps.oversight.models import DutyRuleSet
    from apps.scoring.models import DecisionPolicy
    from apps.scoring.services import decision_policy_draft_next

    officer = _user("policy.north")
    drafts = 0
    if AuthorityMatrix.objects.exists() and not AuthorityMatrix.objects.filter(
            state="draft").exists():
        authority_matrix_draft_next(actor=officer)
        drafts += 1
    if DutyRuleSet.objects.exists() and not DutyRuleSet.objects.filter(state="draft").exists():
        duty_rule_set_draft_next(actor=officer)
        drafts += 1
    if not DecisionPolicy.objects.filter(state="draft").exists():
        decision_policy_draft_next(actor=officer)
        drafts += 1
    product_id = (DocumentRequirement.objects.filter(is_active=True).order_by("product_id")
                  .values_list("product_id", flat=True).first())
    if product_id is not None and not DocumentRequirementSet.objects.filter(
            state="draft").exists():
        requirement_set_draft(product_id=product_id, actor=officer)
        drafts += 1
    return {"policy drafts": drafts}
