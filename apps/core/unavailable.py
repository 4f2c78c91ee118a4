"""A database that is briefly unreachable (a restart, a fail-over) answers 503 with a reason,
not an HTML 500 (issue 16: clients met non-JSON 500s during a PostgreSQL restart).

A lost connection may have happened before or after a commit, so the only honest answer is
"retry": the client resends with the same Idempotency-Key and gets the stored outcome if the
command had committed, or runs it if it had not. Deadlocks and serialisation failures are
wrapped as OperationalError by Django too, and are just as transient.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    """Turn a database connection failure in a view into 503 + Retry-After (JSON under
    /api/, in the error format of `apps.core.exceptions`; a sentence for pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable for %s %s: %s", request.method, request.path,
                    exception)
        detail = _("The service is briefly unavailable. Please retry in a few seconds; a "
                   "command sent with an Idempotency-Key is applied only once.")
        if request.path.startswith("/api/"):
            response = JsonResponse({"code": "service_unavailable", "detail": detail,
                                     "fields": {}}, status=503)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
