from django.dispatch import receiver

from apps.audit.services import audit_record_now
from apps.core.signals import permission_refused


@receiver(permission_refused)
def record_permission_refused(sender, request, reason: str = "", **kwargs) -> None:
    """A refused request is evidence too: probing for other branches' files shows up here."""
    user = request.user
    audit_record_now(
        action="auth.permission_refused", actor=user, subject=user,
        payload={"method": request.method, "path": request.path[:500], "reason": reason[:500]},
    )
