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
