"""Conditions precedent (放款前提条件, §6.3): each is marked satisfied, with evidence, by the
independent disbursement unit before the contract can be recorded (the "contract" guard)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application
from apps.approvals.models import ConditionPrecedent
from apps.approvals.sod import involved_user_ids
from apps.audit.services import audit_record
from apps.core.fsm import transition_check


def may_check_conditions(application, user) -> bool:
    """The disbursement unit (post-loan officers), independent of the file: never its account
    manager, investigators, reviewers or signers (§6.3: "it cannot be the investigator")."""
    if not (user.is_authenticated and user.has_role(Role.POST_LOAN_OFFICER)):
        return False
    branches = visible_branch_ids(viewer=user)
    if branches is not None and application.branch_id not in branches:
        return False
    signers = set(application.approval_routes.values_list("sign_offs__signer_id", flat=True))
    return user.pk not in involved_user_ids(application) | signers


@transaction.atomic
def condition_satisfy(*, condition_id: int, actor, note: str, document=None
                      ) -> ConditionPrecedent:
    """Mark one condition met, with a note (and optionally a document of the same file)."""
    application_id = (ConditionPrecedent.objects.filter(pk=condition_id)
                      .values_list("application_id", flat=True).get())
    application = Application.objects.select_for_update(no_key=True).get(pk=application_id)
    condition = ConditionPrecedent.objects.select_for_update(no_key=True).get(pk=condition_id)
    if not may_check_conditions(application, actor):
        raise PermissionDenied(_("Only the independent disbursement unit checks conditions."))
    transition_check(condition.satisfy, actor=actor)
    errors = {}
    if not note.strip():
        errors["note"] = _("Describe the evidence that the condition is met.")
    if document is not None and document.application_id != application.pk:
        errors["document_id"] = _("The document must belong to this application.")
    if errors:
        raise ValidationError(errors)
    condition.satisfy(by=actor, at=timezone.now(), note=note.strip(), document=document)
    condition.save()
    audit_record(action="condition.satisfied", actor=actor, subject=condition, payload={
        "application": application.reference, "condition": condition.text,
        "note": condition.evidence_note, "document": getattr(document, "pk", None)})
    return condition
