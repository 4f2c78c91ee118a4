"""OpenAPI: one error schema, and the errors any operation of a kind can answer documented.

Without the hook, schemathesis flagged undocumented 401s on most endpoints (CONVENTIONS §6):
any endpoint can answer them (no session, no permission, an object the viewer may not see).
The same holds by kind of operation, so the rules live here rather than on each view:
- query parameters are validated: 400 with `fields` (page parameters, filters);
- a request body is parsed and validated: 400 (malformed JSON included);
- an `Idempotency-Key` header: 409 while the first request with the key runs, 422 when the
  key was used for another request (apps.core.idempotency).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR_SCHEMA_NAME = "Error"

ErrorSerializer = inline_serializer(
    name=ERROR_SCHEMA_NAME,
    fields={
        "code": serializers.CharField(help_text="Stable machine-readable error code."),
        "detail": serializers.CharField(help_text="Message for people, in the request language."),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Per-field messages for 400 responses; empty otherwise.",
        ),
    },
)

COMMAND_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; see `fields`."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the current state."),
}

IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    name="Idempotency-Key", location=OpenApiParameter.HEADER, required=False,
    description="Any unique string; a retried command with the same key is applied once.",
)

_WHEN_QUERY_PARAMETERS = {"400": "A query parameter is not valid; see `fields`."}
_WHEN_BODY = {"400": "Invalid input; see `fields`."}
_WHEN_IDEMPOTENCY_KEY = {
    "409": "Not possible in the current state, or a request with this Idempotency-Key is "
           "still being processed.",
    "422": "The Idempotency-Key was already used for another request.",
}

_ALWAYS = {
    "401": "Not authenticated.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "Not found, or not visible to you.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the Error schema and the always-possible errors."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_SCHEMA_NAME, {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "detail": {"type": "string"},
            "fields": {"type": "object",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
        "required": ["code", "detail", "fields"],
    })
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method.startswith("x-") or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status_code, description in _errors_of(operation).items():
                responses.setdefault(status_code, {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                })
    return result


def _errors_of(operation: dict) -> dict[str, str]:
    """The error statuses an operation can answer by its shape (see the module docstring)."""
    parameters = operation.get("parameters", [])
    errors = dict(_ALWAYS)
    if any(p.get("in") == "query" for p in parameters):
        errors.update(_WHEN_QUERY_PARAMETERS)
    if "requestBody" in operation:
        errors.update(_WHEN_BODY)
    if any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_KEY_HEADER.name
           for p in parameters):
        errors.update(_WHEN_IDEMPOTENCY_KEY)
    return errors
