"""Domain errors and the one API error format: {"code", "detail", "fields"}.

400 validation (with field messages), 401, 403, 404 (objects the viewer may not see answer 404
too, so their existence is not revealed) and 409 for moves the workflow does not allow now.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.signals import permission_refused


class DomainError(Exception):
    """A business rule refused the request; `code` is stable, `detail` is for people."""

    code = "domain_error"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The request breaks a business rule.")

    def __init__(self, detail: str | None = None, *, fields: dict | None = None):
        self.detail = detail or str(self.default_detail)
        self.fields = fields or {}
        super().__init__(self.detail)


class TransitionConflict(DomainError):
    """The object is not in a state where this transition can happen (HTTP 409)."""

    code = "transition_not_allowed"
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, transition=None, detail: str | None = None):
        name = getattr(transition, "__name__", "")
        state = ""
        instance = getattr(transition, "__self__", None)
        if instance is not None:
            state = getattr(instance, "state", "")
        super().__init__(
            detail
            or _("“%(action)s” is not possible while the record is %(state)s.")
            % {"action": name.replace("_", " "), "state": state or _("in its current state")}
        )


class VersionFrozen(TransitionConflict):
    """A published or retired version of policy data, or a row of one, was about to change
    (HTTP 409): a change to policy in force is a new draft, published four-eyes."""

    code = "version_frozen"

    def __init__(self, detail: str | None = None):
        super().__init__(detail=detail or _("A published version cannot change; draft a new "
                                            "one."))


def _error(code: str, detail, status_code: int, fields: dict | None = None) -> Response:
    return Response({"code": code, "detail": str(detail), "fields": fields or {}},
                    status=status_code)


def _fields_of(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors as lists and dicts of ErrorDetail; the documented shape is one level,
    `{field: [message, ...]}`, so nested fields get dotted names (`records.0.amount`)."""
    if not isinstance(detail, dict):
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix or "non_field_errors": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, value in detail.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_fields_of(value, name))
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for index, item in enumerate(value):  # a list field: errors per item
                if item:
                    out.update(_fields_of(item, f"{name}.{index}"))
        else:
            out[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def api_exception_handler(exc, context):
    """Render every API error in one shape, and report permission refusals to the audit trail."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return _error(exc.code, exc.detail, exc.status_code, exc.fields)
    if isinstance(exc, (TransitionNotAllowed, ConcurrentTransition)):
        return _error("transition_not_allowed", _("This action is not possible now; "
                      "reload and try again."), status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        fields = (exc.message_dict if hasattr(exc, "error_dict")
                  else {"non_field_errors": exc.messages})
        return _error("invalid", _("Some fields are not valid."), 400, fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.PermissionDenied) and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            permission_refused.send(sender=api_exception_handler, request=request,
                                    reason=str(exc.detail))
    if isinstance(exc, exceptions.ValidationError):
        return _error("invalid", _("Some fields are not valid."), response.status_code,
                      _fields_of(exc.detail))
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    response.data = {"code": code, "detail": str(detail), "fields": {}}
    return response
