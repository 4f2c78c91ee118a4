"""Issue 19 after the loan: an inspection whose fresh tax records or statements cannot be read
says the declared figures went unverified (DECLARED_FIGURES_UNVERIFIED), as the pre-loan
investigation does, instead of its cross-check silently not running."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.documents import checking
from apps.documents.seed import seed_documents
from apps.documents.states import CheckKind
from apps.documents.tests import statement_generator as gen
from apps.documents.tests.helpers import upload
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.inspection_services import (
    _findings,
    _template_for,
    inspection_answer_save,
    inspection_start,
)
from apps.monitoring.tests.inspections.inspection_factories import make_loan

pytestmark = pytest.mark.django_db


def _m3_with_tax_record(world, layout_name: str, regime: str = "small"):
    seed_documents(with_requirements=False)
    loan = make_loan(world)
    inspection = Inspection.objects.create(
        loan=loan, branch=loan.branch, application=loan.application, kind="m3",
        schedule_key="m3:test", template=_template_for(loan, "m3"), officer=loan.officer,
        due_date=timezone.localdate())
    layout = next(x for x in gen.SERIES_LAYOUTS if x.name == layout_name)
    generated = gen.series_record(12, layout, regime=regime)
    document = upload(world, loan.application, generated.data, type_code="tax_record",
                      name=f"tax.{generated.fmt}")
    checking.document_check(document_id=document.pk)
    officer = loan.officer
    inspection_start(inspection_id=inspection.pk, actor=officer)
    inspection_answer_save(inspection_id=inspection.pk, item_code="ANNUAL_SALES",
                           value=str(generated.last_12("revenue")), actor=officer)
    return inspection, document


def test_an_inspection_says_a_fresh_unreadable_tax_record_left_the_figures_unverified(world):
    # A general taxpayer's tax follows no rate, so nothing proves the column found by content:
    # a person confirms the mapping.
    inspection, document = _m3_with_tax_record(world, "tax-en-newest", regime="general")
    check = document.checks.get(kind=CheckKind.TAX_RECORD)
    assert check.findings["unverified_reason"] == "unconfirmed_mapping"
    _flags, checks = _findings(inspection, now=timezone.now())
    found = [f for f in checks if f["code"] == "DECLARED_FIGURES_UNVERIFIED"]
    assert len(found) == 1, checks
    finding = found[0]
    assert "ANNUAL_SALES" in finding["inputs"]["declared"]
    assert finding["inputs"]["evidence"]["tax.revenue_12m"] is None
    assert {r["document_id"] for r in finding["inputs"]["records"]["tax"]} == {document.pk}
    assert str(document.pk) in finding["message_en"]


def test_an_inspection_with_a_readable_tax_record_raises_nothing_of_the_kind(world):
    inspection, document = _m3_with_tax_record(world, "tax-zh-vat")
    check = document.checks.get(kind=CheckKind.TAX_RECORD)
    assert check.findings.get("verified") is not False  # the seeded tax profile reads it
    _flags, checks = _findings(inspection, now=timezone.now())
    assert "DECLARED_FIGURES_UNVERIFIED" not in {f["code"] for f in checks}
    assert Decimal(check.findings["revenue_12m"]) > 0
