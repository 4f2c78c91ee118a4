"""Demo data: collect what an application's product requires, as an account manager would,
through the real upload service and checks (used by apps/demo's lifecycle walk)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.documents import checking, samples, services
from apps.documents.checklist import checklist_rows

_PDF_TEXT = {
    "business_licence": ["Business licence", "Unified social credit code 91310000MA1K4X2Y3Z"],
    "id_card": ["Resident identity card (copy)"],
    "property_certificate": ["Real estate title certificate", "Owner: the legal representative"],
    "guarantee_letter": ["Letter of guarantee", "Guarantor: Municipal SME Guarantee Co."],
    "financial_statement": ["Balance sheet and income statement", "Audited"],
}


class _Upload:
    """The bits of Django's UploadedFile the service reads."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def chunks(self):
        yield self._data


def _file(code: str, application, n: int, site) -> tuple[str, bytes, dict]:
    seed = application.pk * 100 + n
    if code == "site_photo":
        taken = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).replace(tzinfo=None)
        lat, lng = float(site[0]) + 0.0003 * n, float(site[1])
        return (f"site-{n}.jpg", samples.photo(seed=seed, lat=lat, lng=lng, taken_at=taken),
                {"device_lat": Decimal(str(site[0])), "device_lng": Decimal(str(site[1])),
                 "device_accuracy_m": Decimal("10")})
    if code == "bank_statement":
        return "statement.csv", samples.statement_cn_csv(samples.transactions(seed=seed)), {}
    if code == "tax_record":
        return "vat-returns.csv", samples.tax_csv(seed=seed), {}
    if code == "utility_bill":
        return "electricity.csv", samples.electricity_csv(seed=seed), {}
    valid = (timezone.localdate() + dt.timedelta(days=365)).isoformat()
    lines = [*_PDF_TEXT.get(code, [code]), f"Valid until {valid}"]
    return f"{code}.pdf", samples.pdf(lines), {}


def _near(value, metres: float, rng) -> float:
    """`value` (degrees) moved by up to `metres` either way (a degree is about 111 km)."""
    return float(value) + rng.uniform(-metres, metres) / 111_000


def site_photo_take(application, actor, *, site, seed: int, item_code: str = "") -> int:
    """One photo taken on the site visit now and uploaded from the officer's phone at once, as
    the investigation form does (issue #18): a distinct picture whose EXIF time is seconds ago
    and whose GPS is a few dozen metres from `site`, the phone's position beside it; checked at
    once, so the investigation's photo controls can read it. Returns the document's id."""
    import random

    rng = random.Random(seed)
    taken = timezone.localtime(timezone.now() - dt.timedelta(seconds=rng.randint(5, 40)))
    lat, lng = _near(site[0], 40, rng), _near(site[1], 40, rng)
    extra = {"device_lat": Decimal(f"{_near(lat, 6, rng):.6f}"),
             "device_lng": Decimal(f"{_near(lng, 6, rng):.6f}"),
             "device_accuracy_m": Decimal(rng.randint(4, 15))}
    data = samples.photo(seed=seed, lat=lat, lng=lng, taken_at=taken.replace(tzinfo=None))
    document = services.document_upload(
        application_id=application.pk, document_type_code="site_photo",
        uploaded_file=_Upload(f"IMG_{taken:%Y%m%d_%H%M%S}.jpg", data), actor=actor,
        item_code=item_code, **extra)
    checking.document_check(document_id=document.pk)
    return document.pk


def collect_required_documents(application, actor, *, site) -> int:
    """Upload and check every required document still missing; returns how many files.
    Runs inside the demo seed's transaction."""
    uploaded = 0
    for row in checklist_rows(application):
        if not row.blocking:
            continue
        code = row.requirement.document_type.code
        for n in range(row.satisfied_count, row.requirement.min_count):
            name, data, extra = _file(code, application, n, site)
            document = services.document_upload(
                application_id=application.pk, document_type_code=code,
                uploaded_file=_Upload(name, data), actor=actor,
                **extra)
            checking.document_check(document_id=document.pk)
            uploaded += 1
    return uploaded
