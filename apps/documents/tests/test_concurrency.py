"""Two identical uploads at the same moment still see each other (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.documents import services
from apps.documents.models import Document
from apps.documents.seed import seed_document_types
from apps.documents.tests import corpus
from apps.documents.tests.conftest import upload_file


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_uploads_flag_one_duplicate(world):
    if connection.vendor != "postgresql":
        pytest.skip("the advisory lock under test exists on PostgreSQL only")
    seed_document_types()
    apps = [world.draft(), world.draft()]
    actor = world.user("am.north")
    data, barrier, errors = corpus.pdf(pages=3), threading.Barrier(2), []

    def send(application):
        try:
            barrier.wait()
            services.document_upload(application_id=application.pk,
                                     document_type_code="bank_statement",
                                     uploaded_file=upload_file(data, "s.pdf"), actor=actor)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    first, second = Document.objects.order_by("pk")
    assert first.duplicate_of == [] and second.duplicate_of == [first.pk]
    assert AuditEvent.objects.filter(action="document.uploaded").count() == 2
