"""Uploading realistic files through the real service, for the checks, checklist and API."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.documents import samples, services
from apps.documents.tests.conftest import FIXTURES, upload_file

SITE = (Decimal("31.230400"), Decimal("121.473700"))


def sited_draft(world, **terms):
    """A draft whose enterprise has an operating position (the photo geofence needs one)."""
    enterprise = world.enterprise(operating_lat=SITE[0], operating_lng=SITE[1])
    return world.draft(enterprise=enterprise, **terms)


def site_photo_bytes(seed: int, *, north_m: float = 40) -> bytes:
    taken = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).replace(tzinfo=None)
    return samples.photo(seed=seed, lat=float(SITE[0]) + north_m / 111_000,
                         lng=float(SITE[1]), taken_at=taken, size=(320, 240))


def upload(world, application, data: bytes, *, type_code: str, name: str = "file",
           user: str = "am.north", **extra):
    return services.document_upload(application_id=application.pk,
                                    document_type_code=type_code,
                                    uploaded_file=upload_file(data, name),
                                    actor=world.user(user), **extra)


def upload_photo(world, application, seed: int, **extra):
    return upload(world, application, site_photo_bytes(seed), type_code="site_photo",
                  name=f"site-{seed}.jpg", device_lat=SITE[0], device_lng=SITE[1],
                  device_accuracy_m=Decimal("8"), **extra)


def upload_statement(world, application, **extra):
    data = (FIXTURES / "statement_cn_debit_credit.csv").read_bytes()
    return upload(world, application, data, type_code="bank_statement", name="流水.csv",
                  **extra)


def upload_required_set(world, application):
    """Everything the seeded tax-credit loan asks for before review."""
    docs = [upload(world, application, samples.pdf(["Business licence"]),
                   type_code="business_licence", name="licence.pdf"),
            upload(world, application, samples.pdf(["ID card"]), type_code="id_card",
                   name="id.pdf"),
            upload_statement(world, application),
            upload(world, application, samples.tax_csv(seed=1), type_code="tax_record",
                   name="tax.csv"),
            upload_photo(world, application, 101), upload_photo(world, application, 102)]
    return docs
