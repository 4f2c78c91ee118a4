"""The core system's feed by API: `POST /api/v1/loans/feed/` with JSON records, token auth.

Same rules as the file drop (apps.loans.feed): idempotent by source record id, all or nothing,
each refused record named by its position ("line", from 1) and reason in both languages. An
`Idempotency-Key` makes a retried call return the first answer.
"""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.loans.feed import KIND_COLUMNS, REQUIRED_COLUMNS, feed_import, reason_text
from apps.loans.feed_selectors import feed_import_get
from apps.loans.models import FeedImport

# One call is one all-or-nothing batch; larger drops go through the file import.
MAX_RECORDS_PER_CALL = 10_000
COLUMNS = [*REQUIRED_COLUMNS, *dict.fromkeys(c for cols in KIND_COLUMNS.values() for c in cols)]


class RefusalSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Position of the record in `records`, from 1.")
    field = serializers.CharField()
    code = serializers.CharField()
    reason = serializers.CharField(help_text="In the request's language.")
    reason_en = serializers.CharField()
    reason_zh = serializers.CharField()


class FeedImportSerializer(serializers.ModelSerializer):
    errors = serializers.SerializerMethodField()

    class Meta:
        model = FeedImport
        fields = ["id", "source", "outcome", "rows_total", "rows_new", "rows_duplicate",
                  "errors", "created_at"]

    @extend_schema_field(RefusalSerializer(many=True))
    def get_errors(self, batch) -> list[dict]:
        return [{"line": e["line"], "field": e.get("field", ""), "code": e["code"],
                 "reason": reason_text(e), "reason_en": e.get("reason_en", ""),
                 "reason_zh": e.get("reason_zh", "")} for e in batch.errors]


class FeedImportApi(IdempotentCommandMixin, APIView):
    """Import a batch of records from the core system."""

    class InputSerializer(serializers.Serializer):
        records = serializers.ListField(
            child=serializers.DictField(), allow_empty=False, max_length=MAX_RECORDS_PER_CALL,
            help_text="Objects with " + ", ".join(COLUMNS) + " (amounts as strings in yuan, "
                      "dates as YYYY-MM-DD).")

    @extend_schema(
        operation_id="loans_feed_import", request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={201: FeedImportSerializer,
                   422: OpenApiResponse(inline_serializer("FeedRefused", {
                       "code": serializers.CharField(), "detail": serializers.CharField(),
                       "fields": serializers.DictField(),
                       # Absent when the refusal is `idempotency_key_reused`.
                       "feed_import": FeedImportSerializer(required=False)}),
                       description="Refused whole (`feed_refused`): nothing was imported; "
                                   "every refused record is listed under `feed_import`. Or "
                                   "`idempotency_key_reused`: the Idempotency-Key was already "
                                   "used for another request."),
                   **COMMAND_ERRORS})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = ((n, record) for n, record in enumerate(data.validated_data["records"], start=1))
        batch = feed_import(header=COLUMNS, rows=rows, source=FeedImport.Source.API,
                            actor=request.user).feed_import
        body = FeedImportSerializer(batch).data
        if batch.outcome == FeedImport.Outcome.REFUSED:
            # Returned, not raised: the refused import stays recorded (the idempotency
            # savepoint keeps what a 4xx response wrote).
            return Response({"code": "feed_refused",
                             "detail": str(_refused_detail(len(batch.errors))),
                             "fields": {}, "feed_import": body},
                            status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(body, status=status.HTTP_201_CREATED)


def _refused_detail(count: int) -> str:
    from django.utils.translation import ngettext

    return ngettext("%(n)s record was refused; nothing was imported.",
                    "%(n)s records were refused; nothing was imported.", count) % {"n": count}


class FeedImportDetailApi(APIView):
    """One import with its refused records."""

    @extend_schema(operation_id="loans_feed_import_detail",
                   responses={200: FeedImportSerializer})
    def get(self, request, import_id: int):
        return Response(FeedImportSerializer(
            feed_import_get(viewer=request.user, import_id=import_id)).data)
