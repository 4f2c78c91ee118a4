"""Requirements as data, the per-application checklist, the gate on the application's moves,
and waivers (domain reference §3.5)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.applications import services as application_services
from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.documents import checking, samples, waivers
from apps.documents.checklist import checklist_rows
from apps.documents.models import Document, DocumentRequirement, RequirementWaiver
from apps.documents.safety import UploadRejected
from apps.documents.states import ChecklistStatus as L
from apps.documents.tests.helpers import (
    sited_draft,
    upload,
    upload_photo,
    upload_required_set,
    upload_statement,
)

pytestmark = pytest.mark.django_db


def rows(application):
    return {row.requirement.document_type.code: row for row in checklist_rows(application)}


def investigating(docs):
    """A sited application walked to investigating (its investigation accepted)."""
    from apps.demo.lifecycle import walk_to_state

    return walk_to_state(sited_draft(docs), ApplicationState.INVESTIGATING, branch_code="north")


def send_to_review(docs, app):
    return application_services.application_send_to_review(application_id=app.pk,
                                                            actor=docs.user("am.north"))


def test_seeded_requirements_per_product(docs):
    tax = DocumentRequirement.objects.filter(product__code="tax-credit-loan", required=True)
    assert set(tax.values_list("document_type__code", flat=True)) == {
        "business_licence", "id_card", "bank_statement", "site_photo", "tax_record"}
    assert tax.get(document_type__code="site_photo").min_count == 2
    property_loan = DocumentRequirement.objects.filter(product__code="property-operating-loan")
    assert property_loan.filter(document_type__code="property_certificate",
                                required=True).exists()


def test_requirement_rules_validated(docs):
    requirement = DocumentRequirement.objects.filter(document_type__code="site_photo").first()
    requirement.accepted_formats = ["pdf"]  # site photos are images: cannot widen to PDF
    requirement.checks = ["photo", "astrology"]
    with pytest.raises(ValidationError) as info:
        requirement.clean()
    assert set(info.value.message_dict) == {"accepted_formats", "checks"}


def test_a_requirement_narrows_the_accepted_formats(docs):
    app = sited_draft(docs)
    DocumentRequirement.objects.filter(product__code="tax-credit-loan",
                                       document_type__code="bank_statement").update(
        accepted_formats=["csv", "xlsx"])
    with pytest.raises(UploadRejected) as info:
        upload(docs, app, samples.pdf(["statement"]), type_code="bank_statement")
    assert info.value.code == "format_not_allowed"


def test_checklist_statuses_follow_the_documents(docs):
    app = sited_draft(docs)
    assert {r.status for r in rows(app).values()} == {L.MISSING}

    statement = upload_statement(docs, app)
    assert rows(app)["bank_statement"].status == L.UPLOADED
    checking.document_check(document_id=statement.pk)
    assert rows(app)["bank_statement"].status == L.PASSED

    photo = upload_photo(docs, app, 1)
    checking.document_check(document_id=photo.pk)
    row = rows(app)["site_photo"]
    assert (row.status, row.satisfied_count, row.blocking) == (L.MISSING, 1, True)  # 1 of 2

    # An expired statement no longer counts, whatever its checks said.
    Document.objects.filter(pk=statement.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert rows(app)["bank_statement"].status == L.EXPIRED
    assert not rows(app)["utility_bill"].blocking  # optional


def test_gate_blocks_send_to_review_until_documents_are_ready(docs):
    app = investigating(docs)
    with pytest.raises(DomainError) as info:
        send_to_review(docs, app)
    reasons = " ".join(info.value.fields["reasons"])
    assert "Documents not ready" in reasons and "Business licence (Missing)" in reasons

    for document in upload_required_set(docs, app):
        checking.document_check(document_id=document.pk)
    assert not [r for r in checklist_rows(app) if r.blocking], [
        (r.requirement.document_type.code, r.status) for r in checklist_rows(app)]
    assert send_to_review(docs, app).state == ApplicationState.UNDER_REVIEW


def test_products_without_requirements_are_not_gated(world):
    from apps.demo.lifecycle import walk_to_state

    app = walk_to_state(world.draft(), ApplicationState.UNDER_REVIEW, branch_code="north")
    assert app.state == ApplicationState.UNDER_REVIEW and checklist_rows(app) == []


def test_waiving_a_missing_requirement(docs):
    app = investigating(docs)
    requirement = DocumentRequirement.objects.get(product__code="tax-credit-loan",
                                                  document_type__code="tax_record")
    # The account manager asks; they never approve their own waiver; another branch can't.
    with pytest.raises(PermissionDenied):
        waivers.requirement_waive(application_id=app.pk, requirement_id=requirement.pk,
                                  actor=docs.user("am.north"), reason="Newly registered firm")
    with pytest.raises(DomainError) as info:
        waivers.requirement_waive(application_id=app.pk, requirement_id=requirement.pk,
                                  actor=docs.user("lead.north"), reason="no")
    assert "reason" in info.value.fields
    waiver = waivers.requirement_waive(
        application_id=app.pk, requirement_id=requirement.pk, actor=docs.user("lead.north"),
        reason="Registered four months ago: no VAT returns exist yet.")
    assert rows(app)["tax_record"].status == L.WAIVED
    assert not rows(app)["tax_record"].blocking
    event = AuditEvent.objects.get(action="document.requirement_waived")
    assert event.payload["reason"] == waiver.reason and event.actor_id == waiver.waived_by_id
    with pytest.raises(waivers.AlreadyWaived):
        waivers.requirement_waive(application_id=app.pk, requirement_id=requirement.pk,
                                  actor=docs.user("lead.north"), reason="Twice is not allowed.")
    assert RequirementWaiver.objects.count() == 1


def test_waiving_a_failed_document(docs):
    app = sited_draft(docs)
    statement = upload(docs, app, samples.statement_cn_csv([]), type_code="bank_statement",
                       name="empty.csv")
    checking.document_check(document_id=statement.pk)
    assert rows(app)["bank_statement"].status == L.FAILED

    # The team lead who uploaded it may not waive it either.
    by_lead = upload(docs, app, samples.statement_cn_csv([]), type_code="bank_statement",
                     name="again.csv", user="lead.north")
    checking.document_check(document_id=by_lead.pk)
    with pytest.raises(PermissionDenied):
        waivers.document_waive(document_id=by_lead.pk, actor=docs.user("lead.north"),
                               reason="Statement comes on paper from the rural bank.")
    with pytest.raises(PermissionDenied):
        waivers.document_waive(document_id=statement.pk, actor=docs.user("am.north"),
                               reason="Statement comes on paper from the rural bank.")
    document = waivers.document_waive(document_id=statement.pk, actor=docs.user("lead.north"),
                                      reason="Statement comes on paper from the rural bank.")
    assert document.waived_by.username == "lead.north"
    assert rows(app)["bank_statement"].status == L.WAIVED
    assert AuditEvent.objects.filter(action="document.waived").count() == 1


def test_gate_reads_the_state_inside_the_transition(docs):
    """The guard is a transition condition: a stale page cannot push the file through."""
    app = investigating(docs)
    app = Application.objects.get(pk=app.pk)
    assert app.state == ApplicationState.INVESTIGATING
    from django_fsm import can_proceed

    assert not can_proceed(app.send_to_review)


def test_demo_walk_collects_what_the_product_requires(docs):
    """apps/demo's lifecycle uploads (and checks) the required files before review."""
    from apps.demo.lifecycle import walk_to_state

    app = walk_to_state(sited_draft(docs), ApplicationState.UNDER_REVIEW, branch_code="north")
    assert app.state == ApplicationState.UNDER_REVIEW
    statuses = {code: row.status for code, row in rows(app).items() if row.requirement.required}
    assert set(statuses.values()) == {L.PASSED}, statuses
    assert Document.objects.filter(application=app, document_type__code="site_photo").count() == 2
