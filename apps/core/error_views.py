"""Project error handlers: the API answers in its JSON error shape, pages keep their HTML pages.

Django's own 400/404/500 views answer HTML. Under /api/ that broke the documented contract
(`{code, detail, fields}`) exactly where a client most needs it: unknown paths, malformed path
ids (the URL converter refuses them before any DRF view runs) and uncaught exceptions.
Neither shape carries a traceback or exception text: the log has those (request id in both).
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    """True for the integration API and its schema: callers there expect JSON, never a page."""
    return request.path.startswith(API_PREFIX)


def api_error(code: str, detail: str, status: int) -> JsonResponse:
    """One error in the API's documented shape (same as apps.core.exceptions)."""
    return JsonResponse({"code": code, "detail": str(detail), "fields": {}}, status=status)


def bad_request(request, exception=None):
    """400 raised outside a DRF view (e.g. a malformed multipart body, a suspicious header)."""
    if is_api_request(request):
        return api_error("bad_request", _("The request could not be understood."), 400)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    """404 for unknown addresses and path ids the URL converter refuses."""
    if is_api_request(request):
        return api_error("not_found", _("Not found."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: the exception is already logged; the caller only learns that it happened."""
    if is_api_request(request):
        return api_error("server_error",
                         _("Something went wrong on our side; the error has been logged. "
                           "Please try again in a moment."), 500)
    return defaults.server_error(request)
