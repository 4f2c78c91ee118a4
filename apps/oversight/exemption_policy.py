"""Policy values the exemption cases read (§0.2: day counts and limits are data).

Seeded idempotently (version 1 only when the key has no row at all); a bank changes a value by
adding a version, and each case records the version it used.
"""

import datetime as dt
from decimal import Decimal

from apps.core.policy import Evidence
from apps.investigations.models import PolicyValue
from apps.investigations.policy import policy_values_in_force

SUBSTANDARD_DPD = "classification.floor.substandard.dpd_gt"
REVIEW_DEADLINE_DAYS = "exemption.review_deadline_days"
APPEAL_WINDOW_DAYS = "exemption.appeal_window_days"
BATCH_MAX_PRINCIPAL = "exemption.batch.max_principal"
NPL_TOLERANCE_PP = "exemption.npl_tolerance_pp"
NPL_TARGET_PCT = "exemption.npl_head_office_target_pct"

_GUIDANCE_2024 = "金规〔2024〕11号 《金融监管总局关于普惠信贷尽职免责工作的通知》"

# (key, value, unit, evidence, citation, description)
EXEMPTION_POLICY = [
    (SUBSTANDARD_DPD, "90", "days", Evidence.VERIFIED,
     "《商业银行金融资产风险分类办法》 CBIRC/PBOC Order 2023 No. 1; China Daily 2023-02-12",
     "Non-performing (substandard or worse) when more than this many days past due"),
    (REVIEW_DEADLINE_DAYS, "365", "days", Evidence.VERIFIED, _GUIDANCE_2024,
     "An exemption review finishes within this many days of opening"),
    (APPEAL_WINDOW_DAYS, "30", "days", Evidence.DESIGN, "Domain reference §4.6 [G]",
     "Days after the decision in which a person may appeal"),
    (BATCH_MAX_PRINCIPAL, "1000000", "CNY", Evidence.DESIGN,
     f"{_GUIDANCE_2024}: batch reports for small, clearly attributable loans; limit [G]",
     "Largest principal a batch exemption decision may cover"),
    (NPL_TOLERANCE_PP, "3", "pp", Evidence.VERIFIED,
     "银监发〔2016〕56号; NPL tolerance +3 pp over the bank's overall ratio (§2.7)",
     "Tolerated excess of a branch's inclusive NPL ratio over the bank's overall ratio"),
    (NPL_TARGET_PCT, "3", "%", Evidence.DESIGN, "Head-office target, domain reference §4.6 [G]",
     "Head-office target for a branch's inclusive small/micro NPL ratio"),
]


def seed_exemption_policy(*, effective_from: dt.date = dt.date(2023, 7, 1)) -> list[str]:
    """Create version 1 of each key that has no row yet (idempotent; never rewrites a value,
    and leaves a key another app seeded, e.g. the classification floor, alone)."""
    created = []
    for key, value, unit, evidence, citation, description in EXEMPTION_POLICY:
        if PolicyValue.objects.filter(key=key).exists():
            continue
        PolicyValue.objects.create(key=key, value=Decimal(value), unit=unit, version=1,
                                   effective_from=effective_from, evidence=evidence,
                                   source_citation=citation, description_en=description)
        created.append(key)
    return created


class PolicyMissing(LookupError):
    """A policy value the exemption workflow needs has no version in force."""


def exemption_policy(key: str, *, on: dt.date | None = None) -> PolicyValue:
    """The row of `key` in force on `on` (today); seeds the defaults once if it is absent."""
    row = policy_values_in_force(on=on).get(key)
    if row is None:
        seed_exemption_policy()
        row = policy_values_in_force(on=on).get(key)
    if row is None:
        raise PolicyMissing(key)
    return row
