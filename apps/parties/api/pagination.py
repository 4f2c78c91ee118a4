"""Limit/offset pages for plain APIViews, with the page envelope documented in OpenAPI.

drf-spectacular only describes pagination for generic views; these views stay plain APIViews
(CONVENTIONS §6), so each list declares its envelope with `paginated()`.
"""

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description="Page size (default 50)."),
    OpenApiParameter("offset", int, description="Rows to skip."),
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
    """One page of `queryset` as the paginated Response (the settings' page size)."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context=context or {}).data
    return paginator.get_paginated_response(data)
