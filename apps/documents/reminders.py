"""Re-collection reminders (issue 5; domain reference §3.5: documents carry an expiry date for
re-collection, e.g. annual financials and licences).

A daily sweep finds documents of open applications that expire within the policy window
(`documents.reminder_days`) or have expired, and tells the account manager: an in-app record
(`DocumentReminder`, shown on the checklist) and an email through Django's email backend. The
unique (document, window, expiry date) key makes the sweep idempotent: one reminder per
document per window, however often it runs; a re-collected document (new expiry) starts over.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.applications.states import TERMINAL_STATES
from apps.audit.services import audit_record
from apps.documents.models import Document, DocumentReminder
from apps.documents.states import DocumentState

log = logging.getLogger(__name__)
W = DocumentReminder.Window


def _message(document: Document, window: str) -> tuple[str, str]:
    application = document.application
    values = {"type": document.document_type.name, "reference": application.reference,
              "enterprise": application.enterprise.name,
              "date": document.expires_on.isoformat()}
    if window == W.EXPIRED:
        subject = _("%(type)s for %(reference)s has expired") % values
        body = _("The %(type)s of %(enterprise)s (application %(reference)s) expired on "
                 "%(date)s. Please collect a current one.") % values
    else:
        subject = _("%(type)s for %(reference)s expires on %(date)s") % values
        body = _("The %(type)s of %(enterprise)s (application %(reference)s) expires on "
                 "%(date)s. Please collect a current one before then.") % values
    return subject, body


def document_expiry_remind(*, today: dt.date | None = None) -> int:
    """Send the reminders due today; returns how many were sent."""
    from apps.investigations.policy import PolicyResolver

    today = today or timezone.localdate()
    days = PolicyResolver()("documents.reminder_days")
    if days is None:
        log.warning("documents.reminder_days is not configured; no reminders sent")
        return 0
    horizon = today + dt.timedelta(days=int(days))
    due = (Document.objects
           .filter(expires_on__isnull=False, expires_on__lte=horizon, quarantined=False)
           .exclude(state=DocumentState.WAIVED)
           .exclude(application__state__in=TERMINAL_STATES)
           .select_related("application__account_manager", "application__enterprise",
                           "document_type")
           .order_by("pk"))
    sent = 0
    for document in due.iterator(chunk_size=500):
        window = W.EXPIRED if document.expires_on < today else W.EXPIRING
        # A newer document of the same type means it was re-collected already.
        if Document.objects.filter(application_id=document.application_id,
                                   document_type_id=document.document_type_id,
                                   uploaded_at__gt=document.uploaded_at,
                                   expires_on__gt=horizon).exists():
            continue
        recipient = document.application.account_manager
        try:
            with transaction.atomic():
                DocumentReminder.objects.create(document=document, window=window,
                                                expires_on=document.expires_on,
                                                recipient=recipient)
                audit_record(action="document.reminder_sent", actor=None, subject=document,
                             payload={"window": window,
                                      "expires_on": document.expires_on.isoformat(),
                                      "recipient_id": recipient.pk})
        except IntegrityError:
            continue  # already reminded for this window
        if recipient.email:
            with translation.override(settings.LANGUAGE_CODE):
                subject, body = _message(document, window)
            # After the commit: a failed send is logged, never undoes the in-app record.
            try:
                send_mail(subject, body, None, [recipient.email], fail_silently=False)
            except Exception:  # noqa: BLE001 - mail servers fail; the record stays
                log.warning("reminder email for document %s failed", document.pk,
                            exc_info=True)
        sent += 1
    return sent
