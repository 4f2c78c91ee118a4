from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.seed import seed_document_types


@pytest.fixture
def types(db):
    seed_document_types()


def stored_files() -> set[Path]:
    """Every file under MEDIA_ROOT: what "nothing left behind" is measured against."""
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def upload_file(data: bytes, name: str = "file.bin") -> SimpleUploadedFile:
    """An uploaded file with the client's name exactly as sent. Django's multipart parser and
    `UploadedFile` already cut names to their last component; the service must not rely on
    that (files also arrive through the API and imports), so the raw name is forced here."""
    uploaded = SimpleUploadedFile("x", data, content_type="application/pdf")  # the lie is ignored
    uploaded._name = name
    return uploaded


FIXTURES = Path(__file__).parent / "fixtures"


def seeded_policy():
    """The seeded thresholds as the `policy` callable checks take, without a database."""
    from decimal import Decimal

    from apps.documents.seed import POLICY
    from apps.documents.statements.policies import statement_policy_values

    values = {key: Decimal(value) for key, value, *_rest in POLICY}
    values.update(statement_policy_values())
    return values.get


def seeded_profiles(kind: str):
    from apps.documents.models import ColumnProfile
    from apps.documents.seed import PROFILES

    return [ColumnProfile(**spec) for spec in PROFILES if spec["kind"] == kind]


def context(path, fmt, **overrides):
    """A CheckContext over a file, with the seeded policy and profiles."""
    import datetime as dt

    from django.utils import timezone

    from apps.documents.checks import CheckContext

    kind = overrides.pop("profiles_kind", None)
    fields = {"path": Path(path), "format": fmt, "document_type": "x", "metadata": {},
              "uploaded_at": timezone.now(), "policy": seeded_policy(),
              "profiles": seeded_profiles(kind) if kind else [],
              "today": dt.date(2026, 11, 28)}
    fields.update(overrides)
    return CheckContext(**fields)


@pytest.fixture
def docs(world):
    """The test world plus the documents app's seed: types, profiles, policy, and the
    seeded products' requirements (so the gate is live)."""
    from apps.documents.seed import seed_documents

    seed_documents(with_requirements=True)
    return world
