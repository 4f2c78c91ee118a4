"""Demo data: collect what an application's product requires, as an account manager would,
through the real upload service and checks (used by apps/demo's lifecycle walk)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
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


def demo_seed(application) -> int:
    """The number the demo's draws about `application` start from (its documents, photos,
    narratives and visit), the same in every seed: taken from the enterprise's registration
    code and the product, never from a row id. An id is whatever the database's sequence
    gives next, and sequences move on with every row written before in the process (neither
    a rollback nor a flush takes them back): draws keyed by ids made other files when the demo
    was seeded after other tests had run, and one of them tripped a control (an honest file
    flagged, the court-list pull and the drafts missing)."""
    enterprise = application.enterprise
    key = f"{enterprise.uscc or enterprise.name}:{application.product_version.product.code}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:5], "big")


class _Upload:
    """The bits of Django's UploadedFile the service reads."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def chunks(self):
        yield self._data


def _scaled(txns: list, inflows: Decimal) -> list:
    """The sample account with every amount scaled so its inflows total `inflows` (outflows
    by the same factor): the firm's own scale of business, same pattern of trade."""
    total = sum((t.amount for t in txns if t.amount > 0), Decimal(0))
    factor = inflows / total
    return [dataclasses.replace(t, amount=(t.amount * factor).quantize(Decimal("0.01")))
            for t in txns]


def _tax_returns(*, seed: int, revenue_12m: Decimal, prior_12m: Decimal) -> bytes:
    """24 monthly VAT returns (税款所属期, 销售额, 实缴税额, small-scale 3% levy) whose last 12
    months total `revenue_12m` and the 12 before `prior_12m`, month to month uneven."""
    import csv
    import io
    import random

    rng = random.Random(seed)
    periods = samples._months(timezone.localdate(), 24)
    rows = []
    for year_total, months in ((prior_12m, periods[:12]), (revenue_12m, periods[12:])):
        weights = [Decimal(rng.randint(90, 110)) for _ in months]
        amounts = [(year_total * w / sum(weights)).quantize(Decimal("0.01")) for w in weights]
        amounts[-1] += year_total.quantize(Decimal("0.01")) - sum(amounts)  # exact total
        rows += list(zip(months, amounts, strict=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["税款所属期", "销售额", "实缴税额"])
    for period, revenue in rows:
        writer.writerow([period, f"{revenue:.2f}", f"{revenue * Decimal('0.03'):.2f}"])
    return out.getvalue().encode("utf-8")


def _file(code: str, application, n: int, site, figures: dict | None = None,
          count: int = 1) -> tuple[str, bytes, dict]:
    """One document of type `code`. With `figures` (the firm's own: `bank.inflows_12m`,
    `tax.revenue_12m`, `tax.prior_revenue_12m`), the statements and the tax returns are at
    the firm's scale, split over the `count` documents of the type; without, the samples'
    fixed scale."""
    seed = demo_seed(application) * 100 + n
    figures = figures or {}
    if code == "site_photo":
        taken = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).replace(tzinfo=None)
        lat, lng = float(site[0]) + 0.0003 * n, float(site[1])
        return (f"site-{n}.jpg", samples.photo(seed=seed, lat=lat, lng=lng, taken_at=taken),
                {"device_lat": Decimal(str(site[0])), "device_lng": Decimal(str(site[1])),
                 "device_accuracy_m": Decimal("10")})
    if code == "bank_statement":
        txns = samples.transactions(seed=seed)
        if figures.get("bank.inflows_12m"):
            txns = _scaled(txns, Decimal(figures["bank.inflows_12m"]) / count)
        return "statement.csv", samples.statement_cn_csv(txns), {}
    if code == "tax_record":
        if figures.get("tax.revenue_12m"):
            revenue = Decimal(figures["tax.revenue_12m"]) / count
            prior = Decimal(figures.get("tax.prior_revenue_12m") or figures["tax.revenue_12m"])
            return "vat-returns.csv", _tax_returns(seed=seed, revenue_12m=revenue,
                                                   prior_12m=prior / count), {}
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


def collect_required_documents(application, actor, *, site, figures: dict | None = None) -> int:
    """Upload and check every required document still missing; returns how many files.
    Runs inside the demo seed's transaction. `figures`: the firm's own figures the bank
    statements and tax returns show (see `_file`), so they agree with its declared sales."""
    uploaded = 0
    for row in checklist_rows(application):
        if not row.blocking:
            continue
        code = row.requirement.document_type.code
        for n in range(row.satisfied_count, row.requirement.min_count):
            name, data, extra = _file(code, application, n, site, figures,
                                      count=row.requirement.min_count)
            document = services.document_upload(
                application_id=application.pk, document_type_code=code,
                uploaded_file=_Upload(name, data), actor=actor,
                **extra)
            checking.document_check(document_id=document.pk)
            uploaded += 1
    return uploaded
