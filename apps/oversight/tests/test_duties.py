"""The due-diligence evidence pack: duties as data, evaluated from the trail, PDF export."""

import datetime as dt

import pytest
from django.urls import reverse
from pypdf import PdfReader

from apps.audit.models import AuditEvent
from apps.investigations import workflow
from apps.oversight import services
from apps.oversight.duties import (
    FULFILLED,
    NOT_APPLICABLE,
    NOT_FULFILLED,
    NOT_REACHED,
    build_pack,
    registered_evaluators,
)
from apps.oversight.models import DutyRule, DutyRuleSet
from apps.oversight.states import ExportJobState, ExportKind
from apps.policy.versioning import version_publish

pytestmark = pytest.mark.django_db


def _statuses(pack) -> dict[str, str]:
    return {line.rule.code: line.result.status for line in pack.lines}


def test_seeded_rules_name_registered_evaluators():
    rules = DutyRule.objects.filter(rule_set__version=1)
    assert rules.count() == 7
    assert set(rules.values_list("evaluator", flat=True)) <= set(registered_evaluators())
    assert all(rule.label_zh and rule.label_en for rule in rules)


def test_walked_application_fulfils_its_duties_and_pdf_renders(world, tmp_path, settings,
                                                                client_as):
    application = world.in_state("disbursed")
    pack = build_pack(application)
    statuses = _statuses(pack)
    assert statuses["investigation-items"] == FULFILLED
    assert statuses["two-officer-visit"] == FULFILLED
    assert statuses["cross-checks"] == FULFILLED
    assert statuses["independent-review"] == FULFILLED
    assert statuses["sign-offs"] == FULFILLED
    assert statuses["post-loan-inspections"] == NOT_APPLICABLE
    visit = next(line for line in pack.lines if line.rule.code == "two-officer-visit")
    assert len(visit.result.events) == 2
    assert all(AuditEvent.objects.filter(seq=seq, application_id=application.pk).exists()
               for line in pack.lines for seq in line.result.events)

    page = client_as("admin.north").get(reverse("oversight:pack", args=[application.pk]))
    assert page.status_code == 200 and "two-officer-visit" in page.content.decode()
    assert AuditEvent.objects.filter(action="evidence_pack.viewed",
                                     application_id=application.pk).count() == 1

    settings.MEDIA_ROOT = str(tmp_path)
    with world_language("zh-hans"):
        job = services.export_job_request(kind=ExportKind.PACK_PDF,
                                          actor=world.user("auditor.north"),
                                          application_id=application.pk)
        job = services.export_job_run(job_id=job.pk)
    assert job.state == ExportJobState.DONE, job.error
    reader = PdfReader(tmp_path / job.file_name)
    assert application.reference in "".join(page.extract_text() for page in reader.pages)

    trail_job = services.export_job_request(kind=ExportKind.TRAIL_PDF,
                                            actor=world.user("auditor.north"),
                                            application_id=application.pk)
    trail_job = services.export_job_run(job_id=trail_job.pk)
    assert trail_job.state == ExportJobState.DONE, trail_job.error
    assert (tmp_path / trail_job.file_name).read_bytes()[:5] == b"%PDF-"


def world_language(code):
    from django.utils import translation
    return translation.override(code)


def test_missing_site_visit_and_unknown_evaluator_are_exceptions(world):
    application = world.in_state("submitted")
    am, assistant = world.user("am.north"), world.user("assistant.north")
    from apps.applications import services as application_services
    from apps.investigations.seed import seed_builtin_templates

    seed_builtin_templates()
    application_services.application_start_investigation(application_id=application.pk,
                                                          actor=am)
    investigation = workflow.investigation_assign(
        application_id=application.pk, lead_officer=am, assisting_officer=assistant, actor=am)
    workflow.investigation_start(investigation_id=investigation.pk, actor=am)
    workflow.site_check_in(investigation_id=investigation.pk, officer=am, lat="31.2",
                           lng="121.4")
    statuses = _statuses(build_pack(application))
    assert statuses["two-officer-visit"] == NOT_FULFILLED
    assert statuses["sign-offs"] == NOT_REACHED
    assert statuses["cross-checks"] == NOT_REACHED

    # Version 2 of the rules (data) changes the requirement without touching code.
    v2 = DutyRuleSet.objects.create(version=2, effective_from=dt.date(2026, 1, 2))
    DutyRule.objects.create(rule_set=v2, code="one-visit", label_en="One visit",
                            label_zh="一人", evaluator="two_officer_visit",
                            parameters={"min_officers": 1})
    DutyRule.objects.create(rule_set=v2, code="typo", label_en="Typo", label_zh="错",
                            evaluator="no_such_evaluator")
    assert build_pack(application).rule_set.version == 1  # a draft decides nothing
    v2 = version_publish(model=DutyRuleSet, pk=v2.pk, actor=None,  # the system, as a seed
                         effective_from=dt.date(2026, 1, 2))
    pack = build_pack(application)
    assert pack.rule_set == v2
    assert _statuses(pack) == {"one-visit": FULFILLED, "typo": NOT_FULFILLED}
    assert any("unknown evaluator" in text for _code, text in pack.exceptions)
