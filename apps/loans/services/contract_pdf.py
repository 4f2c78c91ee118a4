"""Serving the contract PDF: rendered on demand from the signed template version, and every
download recorded in the audit trail (who took a copy of a signed contract, and when)."""

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.loans.contract_pdf import render_contract_pdf
from apps.loans.models import LoanContract
from apps.loans.services.common import entrusted_payment_threshold


@transaction.atomic
def contract_pdf_download(*, contract_id: int, actor: User) -> bytes:
    """The PDF bytes of a contract the caller already found through `contract_get` (which
    scoped it to the viewer); the download is audited in the same transaction."""
    contract = LoanContract.objects.select_related(
        "application__enterprise", "application__product_version__product", "branch",
        "created_by").get(pk=contract_id)
    threshold, _policy = entrusted_payment_threshold(
        product_code=contract.application.product_version.product.code,
        on=(contract.signed_at or timezone.now()).date())
    pdf = render_contract_pdf(contract, entrusted_threshold=threshold)
    audit_record(action="contract.downloaded", actor=actor, subject=contract, payload={
        "contract_number": contract.contract_number, "template": contract.template_version,
        "bytes": len(pdf)})
    return pdf
