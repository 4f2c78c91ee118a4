"""Re-collection reminders (once per document and window) and the evidence source."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.documents import checking, reminders, samples
from apps.documents.models import Document, DocumentReminder
from apps.documents.tests.helpers import sited_draft, upload, upload_photo, upload_statement
from apps.investigations.evidence import FIGURE_KEYS, evidence_source, figures_for

pytestmark = pytest.mark.django_db


def test_reminders_once_per_window(docs):
    app = sited_draft(docs)
    manager = app.account_manager
    manager.email = "am.north@example.com"
    manager.save()
    today = timezone.localdate()
    # A long-valid letter first, then one about to expire (a newer file supersedes an older).
    far = upload(docs, app, samples.pdf(["Guarantee 2"]), type_code="guarantee_letter",
                 valid_until=today + dt.timedelta(days=200))
    soon = upload(docs, app, samples.pdf(["Guarantee"]), type_code="guarantee_letter",
                  valid_until=today + dt.timedelta(days=10))
    assert reminders.document_expiry_remind(today=today) == 1
    assert reminders.document_expiry_remind(today=today) == 0  # idempotent
    reminder = DocumentReminder.objects.get()
    assert (reminder.document_id, reminder.window, reminder.recipient_id) == (
        soon.pk, "expiring", manager.pk)
    assert len(mail.outbox) == 1 and app.reference in mail.outbox[0].subject

    # Once expired, a second (and last) reminder for the new window.
    later = today + dt.timedelta(days=11)
    assert reminders.document_expiry_remind(today=later) == 1
    assert reminders.document_expiry_remind(today=later) == 0
    assert set(DocumentReminder.objects.values_list("window", flat=True)) == {"expiring",
                                                                              "expired"}
    assert not DocumentReminder.objects.filter(document=far).exists()
    assert AuditEvent.objects.filter(action="document.reminder_sent").count() == 2


def test_no_reminder_when_recollected_or_waived(docs):
    app = sited_draft(docs)
    today = timezone.localdate()
    old = upload(docs, app, samples.pdf(["Guarantee"]), type_code="guarantee_letter",
                 valid_until=today + dt.timedelta(days=5))
    upload(docs, app, samples.pdf(["Guarantee renewed"]), type_code="guarantee_letter",
           valid_until=today + dt.timedelta(days=365))
    assert reminders.document_expiry_remind(today=today) == 0
    assert Document.objects.get(pk=old.pk).reminders.count() == 0


def test_evidence_source_photos_reuse_and_figures(docs):
    source = evidence_source()
    assert source is not None
    app = sited_draft(docs)
    photo = upload_photo(docs, app, 31)
    assert source.photos(app.pk)[0].checked is False  # not run yet: never a silent pass
    statement = upload_statement(docs, app)
    tax = upload(docs, app, samples.tax_csv(seed=2), type_code="tax_record", name="tax.csv")
    for document in (photo, statement, tax):
        checking.document_check(document_id=document.pk)

    [evidence] = source.photos(app.pk)
    assert evidence.checked and evidence.document_id == photo.pk
    assert evidence.taken_at is not None and evidence.device_lat == pytest.approx(31.2304)
    assert len(evidence.phash) == 16

    other_app = sited_draft(docs)
    reused = upload_photo(docs, other_app, 31)
    checking.document_check(document_id=reused.pk)
    [match] = source.photo_reuse(other_app.pk, max_distance=3)
    assert (match.document_id, match.other_document_id, match.other_application_id) == (
        reused.pk, photo.pk, app.pk)
    assert source.photo_reuse(app.pk, max_distance=3)[0].other_document_id == reused.pk
    # The banded lookup and the full scan agree.
    assert len(source.photo_reuse(app.pk, max_distance=10)) == 1

    figures = figures_for(app.pk)
    assert set(figures) == set(FIGURE_KEYS)
    findings = statement.checks.get(kind="bank_statement").findings
    assert figures["bank.inflows_12m"] == Decimal(findings["figures"]["bank.inflows_12m"])
    assert figures["bank.months_covered"] == 12
    assert figures["bank.large_cash_count"] == 2
    assert figures["tax.revenue_12m"] > 0 and figures["utility.kwh_12m"] is None
