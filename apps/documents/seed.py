"""The document types, requirements, column profiles and check thresholds a bank starts with
(configuration data, editable in the admin; evidence G unless marked).

Formats follow what each document is in practice: scans and photos of certificates, PDF or
spreadsheet exports of statements. Validity periods are starting values for the expiry checks.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from apps.core.policy import Evidence
from apps.documents.models import ColumnProfile, DocumentRequirement, DocumentType
from apps.documents.states import CheckKind as K
from apps.documents.states import RecordKind

MB = 1024 * 1024
SCAN = ["pdf", "jpeg", "png"]
EXPORT = ["pdf", "xlsx", "csv"]

TYPES = [
    # code, English, Chinese, formats, max size, validity days (None: does not expire)
    ("business_licence", "Business licence", "营业执照", SCAN, 10 * MB, None),
    ("id_card", "Identity card", "身份证", SCAN, 5 * MB, None),
    ("bank_statement", "Bank statement", "银行流水", EXPORT, 20 * MB, 90),
    ("tax_record", "Tax record", "纳税记录", EXPORT, 20 * MB, 180),
    ("financial_statement", "Financial statement", "财务报表", EXPORT, 20 * MB, 365),
    ("property_certificate", "Property certificate", "不动产权证书", SCAN, 10 * MB, None),
    ("guarantee_letter", "Guarantee letter", "担保函", SCAN, 10 * MB, 180),
    ("site_photo", "Site-visit photo", "现场照片", ["jpeg", "png", "webp"], 15 * MB, None),
    ("utility_bill", "Utility record", "水电费记录", EXPORT, 10 * MB, None),
    # Evidence the built-in investigation templates ask for (§3.3); a test keeps them in step.
    ("application_form", "Signed application form", "借款申请书", SCAN, 10 * MB, None),
    ("appraisal_report", "Collateral appraisal report", "抵押物评估报告", SCAN, 20 * MB, 365),
    ("count_sheet", "Inventory count sheet", "存货盘点表", [*SCAN, "xlsx", "csv"], 10 * MB, None),
    ("court_enforcement_search", "Court enforcement search", "法院执行信息查询", SCAN, 10 * MB, 30),
    ("credit_authorisation", "Credit report authorisation", "征信查询授权书", SCAN, 10 * MB, None),
    ("credit_report_enterprise", "Enterprise credit report", "企业征信报告", SCAN, 20 * MB, 30),
    ("credit_report_personal", "Personal credit report", "个人征信报告", SCAN, 20 * MB, 30),
    ("customs_declarations", "Customs declarations", "报关单", EXPORT, 20 * MB, 365),
    ("logistics_records", "Logistics records", "物流单据", [*EXPORT, "jpeg", "png"], 20 * MB, None),
    ("purchase_contract", "Purchase contract", "采购合同", SCAN, 20 * MB, None),
    ("purchase_invoices", "Purchase invoices", "采购发票", [*SCAN, "xlsx", "csv"], 20 * MB, 365),
    ("receivable_ledger", "Receivables ledger", "应收账款台账", EXPORT, 20 * MB, 90),
    ("registry_search", "Registry search (business / collateral)", "登记信息查询", SCAN,
     10 * MB, 30),
    ("title_deed_or_lease", "Title deed or lease of the premises",
     "经营场所产权证明或租赁合同", SCAN, 10 * MB, None),
]


def seed_document_types() -> None:
    """Create the starting types; existing rows are left as the bank configured them."""
    for code, name_en, name_zh, formats, max_size, validity in TYPES:
        DocumentType.objects.get_or_create(code=code, defaults={
            "name_en": name_en, "name_zh": name_zh, "allowed_formats": formats,
            "max_size_bytes": max_size, "expires": validity is not None,
            "validity_days": validity})


# --- requirements per product (domain reference §3.5 "required-document list per product and
# stage"; §3.3 A1, B, C1, E, F, H for what each document evidences) -----------------------------
_INTAKE = "send_to_review"  # the investigation must have collected them before review
_COMMON = [
    # type, stage, required, how many, checks
    ("business_licence", _INTAKE, True, 1, [K.EXPIRY]),
    ("id_card", _INTAKE, True, 1, []),
    ("bank_statement", _INTAKE, True, 1, [K.BANK_STATEMENT, K.EXPIRY]),
    ("site_photo", _INTAKE, True, 2, [K.PHOTO]),
    ("utility_bill", _INTAKE, False, 1, [K.UTILITY_BILL]),
]
REQUIREMENTS = {
    "tax-credit-loan": [*_COMMON, ("tax_record", _INTAKE, True, 1, [K.TAX_RECORD, K.EXPIRY])],
    "property-operating-loan": [
        *_COMMON, ("property_certificate", _INTAKE, True, 1, []),
        ("financial_statement", "send_to_approval", False, 1, [K.EXPIRY])],
    "guaranteed-loan": [*_COMMON, ("guarantee_letter", _INTAKE, True, 1, [K.EXPIRY]),
                        ("tax_record", _INTAKE, False, 1, [K.TAX_RECORD, K.EXPIRY])],
    "supply-chain-receivables": [
        *_COMMON, ("financial_statement", _INTAKE, True, 1, [K.EXPIRY])],
}


def seed_document_requirements() -> int:
    """Requirements of the seeded products that exist (rows already there are kept)."""
    from apps.products.models import CreditProduct

    types = {t.code: t for t in DocumentType.objects.all()}
    created = 0
    for product in CreditProduct.objects.filter(code__in=REQUIREMENTS):
        for code, stage, required, count, checks in REQUIREMENTS[product.code]:
            _row, made = DocumentRequirement.objects.get_or_create(
                product=product, document_type=types[code], stage=stage,
                defaults={"required": required, "min_count": count,
                          "checks": [str(k) for k in checks],
                          "source_citation": "Domain reference §3.5 (design default)"})
            created += made
    return created


# --- column profiles: two real-world bank layouts, tax and electricity exports -----------------
PROFILES = [
    {"code": "cn-debit-credit", "name": "Chinese bank export, separate debit/credit columns",
     "kind": RecordKind.BANK_STATEMENT,
     "columns": {"date": ["交易日期", "记账日期", "日期"],
                 "description": ["摘要", "交易摘要", "用途"],
                 "counterparty": ["对方户名", "对方账户名称", "交易对手"],
                 "counterparty_account": ["对方账号", "对方账户", "对方卡号"],
                 "debit": ["借方发生额(支出)", "借方发生额", "支出金额", "支出"],
                 "credit": ["贷方发生额(收入)", "贷方发生额", "收入金额", "收入"],
                 "balance": ["余额", "账户余额"], "channel": ["交易渠道", "渠道"]},
     "required": ["date", "debit", "credit"], "date_formats": ["%Y%m%d", "%Y-%m-%d"],
     "cash_keywords": ["现金", "取现", "存现", "ATM"]},
    {"code": "en-signed", "name": "English export, one signed amount column",
     "kind": RecordKind.BANK_STATEMENT,
     "columns": {"date": ["Date", "Transaction Date", "Value Date"],
                 "description": ["Description", "Narrative", "Details"],
                 "counterparty": ["Counterparty", "Payee/Payer", "Beneficiary"],
                 "amount": ["Amount", "Amount (CNY)"], "balance": ["Balance"],
                 "channel": ["Channel", "Type"]},
     "required": ["date", "amount"], "date_formats": ["%Y-%m-%d", "%d/%m/%Y"],
     "cash_keywords": ["CASH", "ATM"]},
    {"code": "tax-vat-monthly", "name": "Tax bureau export, monthly VAT returns",
     "kind": RecordKind.TAX_RECORD,
     "columns": {"period": ["税款所属期", "所属期", "Period"],
                 "revenue": ["销售额", "应税销售额", "Revenue", "Sales"],
                 "tax_paid": ["实缴税额", "已缴税额", "Tax paid"]},
     "required": ["period", "revenue"]},
    {"code": "grid-electricity-monthly", "name": "Grid company export, monthly electricity",
     "kind": RecordKind.UTILITY_BILL,
     "columns": {"period": ["月份", "账期", "Period", "Month"],
                 "kwh": ["用电量(kWh)", "用电量", "kWh"], "cost": ["电费(元)", "电费", "Amount"]},
     "required": ["period", "kwh"]},
]


def seed_column_profiles() -> int:
    created = 0
    for spec in PROFILES:
        _row, made = ColumnProfile.objects.get_or_create(code=spec["code"], defaults={
            k: v for k, v in spec.items() if k != "code"})
        created += made
    return created


# --- thresholds the checks read (domain reference §0.2: policy data, never constants) ----------
_G, _M = Evidence.DESIGN, Evidence.UNVERIFIED
POLICY = [
    # key, value, unit, evidence, citation
    ("documents.photo.max_age_hours", "72", "h", _G, "§3.3 C1: EXIF time = visit time"),
    ("documents.photo.max_device_distance_m", "200", "m", _G, "§3.4 server-side GPS"),
    ("documents.photo.geofence_m", "500", "m", _G, "§3.3 C1 default X = 500 m"),
    ("documents.photo.reuse_max_distance", "3", "bits", _G, "§3.4 perceptual hash reuse"),
    ("documents.bank.min_months", "6", "months", _G, "§3.3 F: 6-24 months"),
    ("documents.bank.round_trip_days", "3", "days", _G, "§3.3 F2/F3 fast-in-fast-out"),
    ("documents.bank.round_trip_amount_tolerance", "0.1", "ratio", _G, "§3.3 F3"),
    ("documents.bank.round_trip_share_max", "0.2", "ratio", _G, "§3.3 F3 X = G"),
    ("documents.bank.large_cash_amount", "50000", "CNY", _M,
     "PBOC Order 2016 No. 3 art. 5: cash transactions of CNY 50,000 or more are large-value"),
    ("documents.bank.large_cash_count_max", "2", "count", _G, "§3.3 F4"),
    ("documents.bank.top_counterparty_share_max", "0.5", "ratio", _G, "§3.3 C4 top customer"),
    ("documents.bank.round_number_unit", "10000", "CNY", _G, "§3.3 F3 round-number transfers"),
    ("documents.bank.round_number_share_max", "0.3", "ratio", _G, "§3.3 F3"),
    ("documents.records.yoy_decline_max", "0.3", "ratio", _G, "§3.3 E1/E3: down > 30% YoY"),
    ("documents.reminder_days", "30", "days", _G, "§3.5 re-collection"),
    ("documents.photo.fingerprint_max_distance", "16", "bits", _G,
     "§3.4 near-duplicate reuse; issue 19: fingerprint window pairs this close agree"),
    ("documents.photo.fingerprint_candidate_distance", "12", "bits", _G,
     "§3.4; issue 19: index candidates within this distance are confirmed"),
    ("documents.photo.fingerprint_min_pairs", "10", "pairs", _G,
     "§3.4; issue 19: edited copies agree on ≥ 15 window pairs, different pictures ≤ 6"),
]


def seed_document_policy(*, effective_from: dt.date = dt.date(2026, 1, 1)) -> int:
    from apps.investigations.models import PolicyValue

    created = 0
    for key, value, unit, evidence, citation in POLICY:
        if PolicyValue.objects.filter(key=key).exists():
            continue
        PolicyValue.objects.create(key=key, value=Decimal(value), unit=unit, version=1,
                                   effective_from=effective_from, evidence=evidence,
                                   source_citation=f"Domain reference {citation}")
        created += 1
    return created


@transaction.atomic
def seed_documents(*, with_requirements: bool = True) -> dict[str, int]:
    """Everything the documents app needs to run its checks; requirements only on request
    (a product with requirements is gated, which test worlds do not expect)."""
    seed_document_types()
    from apps.documents.statements.policies import seed_statement_policies

    counts = {"column profiles": seed_column_profiles(), "document policy": seed_document_policy(),
              "statement policy": len(seed_statement_policies())}
    if with_requirements:
        counts["document requirements"] = seed_document_requirements()
    return counts
