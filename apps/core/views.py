from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import readiness_report


@never_cache
@require_GET
def livez(request):
    """Liveness: the process answers. No I/O, so a slow database never gets a web process
    restarted (that is readiness's business: taken out of the load balancer, not killed)."""
    return JsonResponse({"ok": True})


@never_cache
@require_GET
def readyz(request):
    """Readiness, unauthenticated, for load balancers and `make run`: 200 when database, broker,
    storage and a worker all answer within HEALTH_READINESS_BUDGET_SECONDS, else 503.

    Reports only ok/not-ok, the state, the backend kind and timings, nothing an outsider could use.
    """
    report = readiness_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


# Older probes and docs say /healthz: the same readiness report.
healthz = readyz
