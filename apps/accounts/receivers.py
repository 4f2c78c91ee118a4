"""Sign-in events go into the audit trail: who came in, who failed, who was locked out."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.audit.services import audit_record_now


def _client(request) -> dict:
    if request is None:
        return {}
    return {"ip": request.META.get("REMOTE_ADDR", ""),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs) -> None:
    audit_record_now(action="auth.login", actor=user, subject=user, payload=_client(request))


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record_now(action="auth.logout", actor=user, subject=user, payload=_client(request))


@receiver(user_login_failed)
def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The username tried is the subject: failed attempts on one account are then one search.
    username = str(credentials.get("username", ""))[:64]
    audit_record_now(action="auth.login_failed", actor=None, subject=("accounts.user", username),
                     payload=_client(request))


@receiver(user_locked_out)
def record_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    audit_record_now(action="auth.locked_out", actor=None,
                     subject=("accounts.user", str(username)[:64]), payload=_client(request))
