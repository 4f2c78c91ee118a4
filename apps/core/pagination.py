"""One page-size rule and one strict parser for every API list (issue #16).

Before this, `?limit=9223372036854775807` returned every row (no cap), a limit or offset past
64 bits reached PostgreSQL and answered 500, and `str.isdigit()` let superscript digits ('²')
through to an `int()` that then raised. Here a page parameter is ASCII digits only, within a
documented range, or the caller gets a field-level 400 naming it.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

# PostgreSQL's bigint: the largest value LIMIT, OFFSET and id comparisons accept.
BIGINT_MAX = 2**63 - 1
# ASCII digits only: str.isdigit() and int() also take '²', '٣' or '１', which either raise
# later or are not what anyone typed.
_DIGITS = re.compile(r"[0-9]+")


def is_whole_number(text: str, *, maximum: int = BIGINT_MAX) -> bool:
    """True when `text` is ASCII digits naming a number no greater than `maximum`: the test
    to use before int() on anything a caller sent (never str.isdigit())."""
    return bool(_DIGITS.fullmatch(text)) and (len(text) < len(str(maximum))
                                              or int(text) <= maximum)


def default_page_size() -> int:
    """Rows per page when the caller sends no `limit` (REST_FRAMEWORK["PAGE_SIZE"])."""
    return settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50


def max_page_size() -> int:
    """The largest `limit` any list accepts (setting API_MAX_PAGE_SIZE)."""
    return settings.API_MAX_PAGE_SIZE


def parse_whole_number(raw, *, field: str, minimum: int = 0, maximum: int = BIGINT_MAX,
                       default: int | None = None) -> int | None:
    """`raw` (a query-string value) as an int in [minimum, maximum], else a 400 on `field`.

    Absent or empty gives `default`. Only ASCII digits are accepted: no sign, no spaces, no
    other scripts' digits."""
    if raw is None or raw == "":
        return default
    text = str(raw)
    if not _DIGITS.fullmatch(text):
        raise ValidationError({field: [_("Enter a whole number using the digits 0–9.")]})
    if not is_whole_number(text, maximum=maximum):
        raise ValidationError({field: [_("Enter a number no greater than %(maximum)s.")
                                       % {"maximum": maximum}]})
    value = int(text)
    if value < minimum:
        raise ValidationError({field: [_("Enter a number no less than %(minimum)s.")
                                       % {"minimum": minimum}]})
    return value


class CappedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages with a capped, strictly parsed `limit` and `offset`.

    DRF's own parser silently falls back to the default page on bad input and has no cap
    unless `max_limit` is set; a client should learn its `limit` was wrong, not get another
    page size than it asked for."""

    def get_limit(self, request):
        return parse_whole_number(request.query_params.get(self.limit_query_param),
                                  field=self.limit_query_param, minimum=1,
                                  maximum=max_page_size(), default=default_page_size())

    def get_offset(self, request):
        return parse_whole_number(request.query_params.get(self.offset_query_param),
                                  field=self.offset_query_param, minimum=0, default=0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(_bounds(parameter["name"]))
        return parameters


def _bounds(name: str) -> dict:
    if name == "limit":
        return {"minimum": 1, "maximum": max_page_size()}
    return {"minimum": 0, "maximum": BIGINT_MAX}


def page_parameters() -> list[OpenApiParameter]:
    """`limit` and `offset` for `@extend_schema(parameters=…)` on plain APIView lists."""
    return [
        OpenApiParameter("limit", {"type": "integer", **_bounds("limit")},
                         description=f"Page size (default {default_page_size()}, at most "
                                     f"{max_page_size()})."),
        OpenApiParameter("offset", {"type": "integer", **_bounds("offset")},
                         description="Rows to skip."),
    ]


def paginated(serializer_class, name: str):
    """The OpenAPI schema of a page of `serializer_class`: count, next, previous, results."""
    return inline_serializer(name=name, fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer_class(many=True),
    })


def paginate(queryset, request, view, serializer_class, context: dict | None = None):
    """One page of `queryset` as the paginated Response; bad `limit`/`offset` answer 400."""
    paginator = CappedLimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context=context or {}).data
    return paginator.get_paginated_response(data)
