"""Waivers (domain reference §3.5): accepting a document without (passing) checks, or a
required document without any file, by someone other than who asks for it.

The account manager collects the file and so is the one asking; a team lead of the branch who
neither manages the application nor uploaded the file approves (`may_waive_for`). Every
waiver carries its reason, is audited, and shows on the checklist (and so the credit memo).
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.selectors import application_get
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError
from apps.core.fsm import transition_check
from apps.documents.models import (
    Document,
    DocumentRequirement,
    RequirementWaiver,
    may_waive_for,
)
from apps.documents.selectors import document_get

REASON_MIN_LENGTH = 10


class WaiverReasonRequired(DomainError):
    code = "invalid"
    default_detail = gettext_lazy("Give the reason for the waiver.")


class AlreadyWaived(DomainError):
    code = "already_waived"
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This requirement is already waived for the application.")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise WaiverReasonRequired(fields={"reason": [
            _("Explain the waiver in at least %(n)s characters.") % {"n": REASON_MIN_LENGTH}]})
    return reason


def document_waive(*, document_id: int, actor: User, reason: str) -> Document:
    """Accept an uploaded document whatever its checks say (failed, flagged, expired)."""
    reason = _reason(reason)
    document_get(viewer=actor, document_id=document_id)  # 404 unless visible
    with transaction.atomic():
        document = (Document.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("application")
                    .get(pk=document_id))
        transition_check(document.waive, actor=actor)
        document.waive(by=actor, reason=reason)
        document.save()
        audit_record(action="document.waived", actor=actor, subject=document,
                     payload={"application_id": document.application_id,
                              "document_type": document.document_type.code,
                              "reason": reason})
    return document


def requirement_waive(*, application_id: int, requirement_id: int, actor: User,
                      reason: str) -> RequirementWaiver:
    """Waive a required document for one application without a file (e.g. no property
    certificate for a tenant business), once per application and requirement."""
    reason = _reason(reason)
    application_get(viewer=actor, application_id=application_id)  # 404 unless visible
    with transaction.atomic():
        # The application's lock serialises this with its transitions (whose guard reads it).
        application = Application.objects.select_for_update(no_key=True).get(pk=application_id)
        requirement = (DocumentRequirement.objects.select_related("document_type")
                       .filter(pk=requirement_id, is_active=True,
                               product_id=application.product_version.product_id).first())
        if requirement is None:
            raise DomainError(_("This product has no such document requirement."),
                              fields={"requirement": [_("Unknown requirement.")]})
        if not may_waive_for(application, actor):
            raise PermissionDenied(_("Only a team lead of the branch who does not manage this "
                                     "application may waive its documents."))
        try:
            with transaction.atomic():
                waiver = RequirementWaiver.objects.create(
                    application=application, requirement=requirement, waived_by=actor,
                    reason=reason)
        except IntegrityError as exc:
            raise AlreadyWaived() from exc
        audit_record(action="document.requirement_waived", actor=actor, subject=application,
                     payload={"requirement_id": requirement.pk,
                              "document_type": requirement.document_type.code,
                              "stage": requirement.stage, "reason": reason})
    return waiver
