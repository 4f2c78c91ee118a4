"""Delegation of authority for absences (§6.1 overlay): explicit, time-boxed, revocable,
audited. The delegator (or an administrator) grants it; the delegate must be an approver."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.approvals.models import Delegation
from apps.audit.services import audit_record


@transaction.atomic
def delegation_grant(*, delegator, delegate, starts_at, ends_at, reason: str,
                     actor) -> Delegation:
    """Lend `delegator`'s authority level to `delegate` between two moments."""
    if actor.pk != delegator.pk and not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only the approver themselves or an administrator delegates "
                                 "authority."))
    errors = {}
    if not delegator.authority_level:
        errors["delegator"] = _("This person holds no authority to delegate.")
    if delegate.pk == delegator.pk:
        errors["delegate"] = _("Delegate to someone else.")
    elif not (delegate.is_active and delegate.has_role(Role.APPROVER)):
        errors["delegate"] = _("The delegate must be an active approver.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The delegation must end after it starts.")
    elif ends_at <= timezone.now():
        errors["ends_at"] = _("The delegation must end in the future.")
    if not reason.strip():
        errors["reason"] = _("Say why (e.g. annual leave).")
    if errors:
        raise ValidationError(errors)
    delegation = Delegation.objects.create(delegator=delegator, delegate=delegate,
                                           starts_at=starts_at, ends_at=ends_at,
                                           reason=reason.strip(), created_by=actor)
    audit_record(action="delegation.granted", actor=actor, subject=delegation, payload={
        "delegator": delegator.pk, "delegate": delegate.pk, "level": delegator.authority_level,
        "starts_at": starts_at, "ends_at": ends_at, "reason": delegation.reason})
    return delegation


@transaction.atomic
def delegation_revoke(*, delegation_id: int, actor) -> Delegation:
    delegation = Delegation.objects.select_for_update(no_key=True).get(pk=delegation_id)
    if actor.pk != delegation.delegator_id and not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only the delegator or an administrator revokes this."))
    if delegation.revoked_at is None:
        delegation.revoked_at, delegation.revoked_by = timezone.now(), actor
        delegation.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        audit_record(action="delegation.revoked", actor=actor, subject=delegation,
                     payload={"delegator": delegation.delegator_id,
                              "delegate": delegation.delegate_id})
    return delegation
