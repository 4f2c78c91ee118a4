"""Who may use the auditors' pages: auditors and administrators, nobody else.

Auditors read every branch and change nothing (§2.2: the audit function is independent of the
line it audits); every view and selector of this app calls `require_auditor` on the server.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.accounts.roles import Role


def is_auditor(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and (user.is_superuser or user.has_role(Role.AUDITOR, Role.ADMIN)))


def require_auditor(user) -> None:
    """403 (audited by the 403 handler) for anyone but an auditor or an administrator."""
    if not is_auditor(user):
        raise PermissionDenied(_("Only auditors and administrators may use the audit pages."))


def auditor_required(view):
    """Sign-in first (a redirect for anonymous users), then the role check."""
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        require_auditor(request.user)
        return view(request, *args, **kwargs)
    return wrapped
