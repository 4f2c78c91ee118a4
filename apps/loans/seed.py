"""Policy data the loan book reads, seeded idempotently after every migrate and by the demo.

Thresholds are data with their evidence tag and source (domain reference §0.2), never code
constants; a bank changes them by adding a new version, not by editing this file.
"""

import datetime as dt
from decimal import Decimal

from apps.loans.services.common import ENTRUSTED_THRESHOLD_KEY

# (key, value, unit, evidence, effective from, citation, description en, description zh)
POLICY = [
    (ENTRUSTED_THRESHOLD_KEY, "10000000", "CNY", "M", dt.date(2024, 7, 1),
     "《流动资金贷款管理办法》 NFRA Order 2024 No. 2 (domain reference §2.5, §8.2): "
     "单笔支付金额超过一千万元人民币 — article text not verified",
     "A single payment above this amount must be made by entrusted payment (受托支付). "
     "A product may set its own row: <key>.<product code>.",
     "单笔支付金额超过该金额的，应当采用贷款人受托支付；产品可另设 <key>.<产品代码>。"),
]


def seed_loan_policy() -> int:
    """Create each policy row once (version 1); existing keys are left as the bank set them."""
    from apps.investigations.models import PolicyValue

    created = 0
    for key, value, unit, evidence, since, citation, text_en, text_zh in POLICY:
        _row, was_created = PolicyValue.objects.get_or_create(
            key=key, version=1, defaults={
                "value": Decimal(value), "unit": unit, "evidence": evidence,
                "effective_from": since, "source_citation": citation[:300],
                "description_en": text_en[:300], "description_zh": text_zh[:300]})
        created += was_created
    return created


def _after_migrate(sender, **kwargs) -> None:
    seed_loan_policy()


def register_seed(app_config) -> None:
    """Seed after the loans app's migrations ran (idempotent, like the role groups)."""
    from django.db.models.signals import post_migrate

    post_migrate.connect(_after_migrate, sender=app_config, dispatch_uid="loans.seed_policy")
