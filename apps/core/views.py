from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import health_report


@never_cache
@require_GET
def healthz(request):
    """Unauthenticated probe for load balancers and `make run`: 200 when all is well, else 503.

    Reports only ok/not-ok and the backend kind, nothing an outsider could use.
    """
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
