"""OpenAPI: one error schema, and 401/403/404 documented on every operation.

Without the hook, schemathesis flagged undocumented 401s on most endpoints (CONVENTIONS §6):
any endpoint can answer them (no session, no permission, an object the viewer may not see).
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
            for status_code, description in _ALWAYS.items():
                responses.setdefault(status_code, {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                })
    return result
