"""The shell of the web UI: a home page per role, the system-status page, the 403 page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from apps.accounts.roles import Role
from apps.core.health import health_report
from apps.core.models import TaskProbe
from apps.core.signals import permission_refused
from apps.web.role_home import role_panels
from apps.web.services import task_probe_send


@login_required
def home(request):
    """What each role came to do, first: one panel per role the user holds."""
    return render(request, "web/home.html", {"panels": role_panels(request.user)})


def _require_admin(user) -> None:
    if not (user.is_superuser or user.has_role(Role.ADMIN)):
        raise PermissionDenied


# Check names stay English codes (they are also /healthz keys); people read these labels.
_CHECK_LABELS = {
    "database": _("Database"),
    "broker": _("Message broker"),
    "worker": _("Background worker"),
    "storage": _("File storage"),
}


@login_required
def system_status(request):
    """Admins only: the health checks, and a button that sends a task through a real worker."""
    _require_admin(request.user)
    report = health_report()
    checks = [{"name": name, "label": _CHECK_LABELS.get(name, name), **check}
              for name, check in report["checks"].items()]
    probes = TaskProbe.objects.select_related("requested_by")[:10]
    return render(request, "web/system_status.html",
                  {"report": report, "checks": checks, "probes": probes})


@login_required
@require_POST
def task_probe_create(request):
    """Send a task from this web request; the page then polls until the worker has run it."""
    _require_admin(request.user)
    probe = task_probe_send(actor=request.user)
    return render(request, "web/partials/task_probe.html", {"probe": probe}, status=201)


@login_required
def task_probe_detail(request, probe_id):
    _require_admin(request.user)
    probe = get_object_or_404(TaskProbe, pk=probe_id)
    return render(request, "web/partials/task_probe.html", {"probe": probe})


def permission_denied(request, exception=None):
    """403 page; the refusal of a signed-in user also goes into the audit trail."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        permission_refused.send(sender=permission_denied, request=request,
                                reason=str(exception or ""))
    return render(request, "403.html", status=403)
