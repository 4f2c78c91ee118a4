"""Small helpers the loan-book services share: locks, policy look-ups, numbering."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.investigations.policy import policy_values_in_force

ENTRUSTED_THRESHOLD_KEY = "loans.entrusted_payment.single_payment_gt"


def check_in_scope(actor, branch_id: int) -> None:
    """403 for a record of a branch outside the actor's scope (selectors already 404 it)."""
    branch_ids = visible_branch_ids(viewer=actor)
    if branch_ids is not None and branch_id not in branch_ids:
        raise PermissionDenied(_("This record belongs to another branch."))


def entrusted_payment_threshold(*, product_code: str, on) -> tuple[Decimal | None, dict]:
    """The single-payment amount above which 受托支付 is mandatory for the product, and the
    policy row used (key, version, evidence) for the audit trail.

    Policy data, not a constant (domain §2.5, §8.2): the product's own row
    `loans.entrusted_payment.single_payment_gt.<PRODUCT>` wins over the bank-wide one.
    """
    values = policy_values_in_force(on=on)
    for key in (f"{ENTRUSTED_THRESHOLD_KEY}.{product_code}", ENTRUSTED_THRESHOLD_KEY):
        row = values.get(key)
        if row is not None:
            return row.value, {"key": key, "version": row.version, "evidence": row.evidence}
    return None, {}
