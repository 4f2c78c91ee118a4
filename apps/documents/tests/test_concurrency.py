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


def _run_in_threads(*targets, timeout: float = 60) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the caller
                errors.append(exc)
            finally:
                connection.close()
        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors


# The deadlock under test exists on PostgreSQL only.
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_upload_and_a_document_check_of_one_application_never_deadlock(world, monkeypatch):
    """Issue 16: the check locked the document FOR UPDATE with its joins (application,
    enterprise, product version, type) and then waited for the audit lock, which an upload of
    the same application held while its deferred foreign-key checks waited at commit on those
    very rows: PostgreSQL killed one of them (500). The interleaving is forced here: the check
    holds its row locks, the upload takes the audit lock, then both go on."""
    if connection.vendor != "postgresql":
        pytest.fail("the deadlock under test exists on PostgreSQL (DATABASE_URL)")
    from apps.documents import checking

    seed_document_types()
    application = world.draft()
    actor = world.user("am.north")
    waiting = services.document_upload(application_id=application.pk,
                                       document_type_code="business_licence",
                                       uploaded_file=upload_file(corpus.pdf(), "l.pdf"),
                                       actor=actor)
    check_has_locks, upload_has_audit_lock = threading.Event(), threading.Event()
    real_check_audit, real_upload_audit = checking.audit_record, services.audit_record

    def check_audit(**kwargs):
        check_has_locks.set()  # the document (and, before the fix, its joins) is locked
        upload_has_audit_lock.wait(10)
        return real_check_audit(**kwargs)  # waits for the upload's audit lock

    def upload_audit(**kwargs):
        check_has_locks.wait(10)
        event = real_upload_audit(**kwargs)  # the audit lock is held from here to commit
        upload_has_audit_lock.set()
        return event

    monkeypatch.setattr(checking, "audit_record", check_audit)
    monkeypatch.setattr(services, "audit_record", upload_audit)
    errors = _run_in_threads(
        lambda: checking.document_check(document_id=waiting.pk),
        lambda: services.document_upload(application_id=application.pk,
                                         document_type_code="bank_statement",
                                         uploaded_file=upload_file(corpus.pdf(pages=2), "s.pdf"),
                                         actor=actor))

    assert errors == []  # before the fix: DeadlockDetected in one of the two
    assert Document.objects.filter(application=application).count() == 2
    assert AuditEvent.objects.filter(action="document.checks_started",
                                     subject_id=str(waiting.pk)).count() == 1
