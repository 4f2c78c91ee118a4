"""Read-only API for auditors' tools: the filtered trail (keyset-paged) and export jobs.

Same rules as the pages: auditors and administrators only (403 otherwise), filters validated
field by field (400 with `fields`), constant queries per page.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import (
    BIGINT_MAX,
    default_page_size,
    max_page_size,
    parse_whole_number,
)
from apps.oversight.access import require_auditor
from apps.oversight.forms import EventFilterForm
from apps.oversight.models import ExportJob
from apps.oversight.selectors import audit_event_page


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    application_id = serializers.IntegerField(allow_null=True)
    enterprise_id = serializers.IntegerField(allow_null=True)
    branch_id = serializers.IntegerField(allow_null=True)
    request_id = serializers.UUIDField(allow_null=True)
    payload = serializers.JSONField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()

    class Meta:
        ref_name = "AuditEvent"


class AuditEventListApi(APIView):
    """Events matching the filters, newest first; pass `next_before` back as `before`."""

    class OutputSerializer(serializers.Serializer):
        results = AuditEventSerializer(many=True)
        next_before = serializers.IntegerField(allow_null=True)

        class Meta:
            ref_name = "AuditEventPage"

    @extend_schema(
        operation_id="audit_events_list", responses={200: OutputSerializer},
        parameters=[OpenApiParameter(name, str, required=False) for name in (
            "application", "enterprise", "user", "branch", "action", "date_from", "date_to")]
        + [OpenApiParameter("before", {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX},
                            required=False, description="`next_before` of the previous page."),
           OpenApiParameter("size", {"type": "integer", "minimum": 1,
                                     "maximum": max_page_size()}, required=False,
                            description="Events per page.")])
    def get(self, request):
        require_auditor(request.user)
        form = EventFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        before = parse_whole_number(request.query_params.get("before"), field="before",
                                    minimum=1)
        size = parse_whole_number(request.query_params.get("size"), field="size", minimum=1,
                                  maximum=max_page_size(), default=default_page_size())
        rows, next_before = audit_event_page(viewer=request.user, filters=form.as_filters(),
                                             before_seq=before, size=size)
        return Response(self.OutputSerializer({"results": rows,
                                               "next_before": next_before}).data)


class ExportJobGetApi(APIView):
    """Progress of a background export (XLSX or PDF)."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        kind = serializers.CharField()
        state = serializers.CharField()
        progress = serializers.IntegerField()
        total = serializers.IntegerField(allow_null=True)
        percent = serializers.IntegerField()
        sha256 = serializers.CharField()
        manifest = serializers.JSONField()
        error = serializers.CharField()

        class Meta:
            ref_name = "AuditExportJob"

    @extend_schema(operation_id="audit_export_job_get", responses={200: OutputSerializer})
    def get(self, request, job_id):
        require_auditor(request.user)
        job = get_object_or_404(ExportJob, pk=job_id)
        return Response(self.OutputSerializer(job).data)
