"""The document types a bank starts with (configuration data, editable in the admin).

Formats follow what each document is in practice: scans and photos of certificates, PDF or
spreadsheet exports of statements. Validity periods are starting values for the expiry checks.
"""

from apps.documents.models import DocumentType

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
]


def seed_document_types() -> None:
    """Create the starting types; existing rows are left as the bank configured them."""
    for code, name_en, name_zh, formats, max_size, validity in TYPES:
        DocumentType.objects.get_or_create(code=code, defaults={
            "name_en": name_en, "name_zh": name_zh, "allowed_formats": formats,
            "max_size_bytes": max_size, "expires": validity is not None,
            "validity_days": validity})
