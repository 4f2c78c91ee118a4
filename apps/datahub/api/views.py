"""Integration API of the data hub: record a consent, request a pull, list and read pulls,
import an export file, the cost report. Errors in the one documented shape
({"code", "detail", "fields"}); another branch's enterprise or pull answers 404."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IdempotentCommandMixin
from apps.core.pagination import page_parameters, paginate, paginated, parse_whole_number
from apps.core.schema import IDEMPOTENCY_KEY_HEADER
from apps.datahub import selectors, services
from apps.datahub.imports import file_import
from apps.datahub.services import month_start
from apps.datahub.states import PullState, Purpose, Source


def _source_field() -> serializers.CharField:
    """A source code; a plain string in the schema (a choice set named "source" collides with
    other apps' enums), checked by the service (400 naming `source`)."""
    return serializers.CharField(max_length=20,
                                 help_text="One of: " + ", ".join(Source.values) + ".")


class ConsentInput(serializers.Serializer):
    enterprise = serializers.IntegerField(min_value=1)
    signed_by = serializers.CharField(max_length=200)
    sources = serializers.ListField(child=serializers.ChoiceField(choices=Source.choices),
                                    min_length=1)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    document_reference = serializers.CharField(max_length=200)
    person = serializers.IntegerField(
        min_value=1, required=False,
        help_text="A person's own consent (guarantor, legal representative …) for the sources "
                  "that answer about persons; omitted for the enterprise's consent.")

    class Meta:
        ref_name = "DataConsentInput"


class ConsentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    enterprise = serializers.IntegerField(source="enterprise_id")
    person = serializers.IntegerField(source="person_id", allow_null=True)
    signed_by = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    document_reference = serializers.CharField()

    class Meta:
        ref_name = "DataConsent"


class RecordOutput(serializers.Serializer):
    kind = serializers.CharField()
    key = serializers.CharField()
    data = serializers.DictField()
    provenance = serializers.DictField(
        help_text="source, query_id, fetched_at, format_version, pull_id")

    class Meta:
        ref_name = "DataRecord"


class PullOutput(serializers.Serializer):
    id = serializers.IntegerField()
    query_id = serializers.UUIDField()
    enterprise = serializers.IntegerField(source="enterprise_id")
    person = serializers.IntegerField(source="person_id", allow_null=True,
                                      help_text="The person asked about; null for the "
                                                "enterprise.")
    application = serializers.IntegerField(source="application_id", allow_null=True)
    branch = serializers.CharField(source="branch.code")
    source = serializers.CharField()
    purpose = serializers.CharField()
    channel = serializers.CharField(help_text="http, cache or file")
    state = serializers.CharField(help_text="One of: " + ", ".join(PullState.values) + ".")
    answered_by = serializers.IntegerField(source="answered_by_id", allow_null=True,
                                           help_text="For cache answers: the paid pull.")
    price = serializers.DecimalField(max_digits=18, decimal_places=2)
    cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    saved = serializers.DecimalField(max_digits=18, decimal_places=2)
    budget_warning = serializers.BooleanField()
    format_version = serializers.CharField()
    attempts = serializers.IntegerField()
    fetched_at = serializers.DateTimeField(allow_null=True)
    error_code = serializers.CharField()
    error_field = serializers.CharField()
    error_detail = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "DataPull"


class PullDetailOutput(PullOutput):
    records = serializers.SerializerMethodField()

    class Meta:
        ref_name = "DataPullDetail"

    @extend_schema_field(RecordOutput(many=True))
    def get_records(self, pull) -> list[dict]:
        paid = pull.answered_by or pull
        return RecordOutput(paid.records.all(), many=True).data


class PullInput(serializers.Serializer):
    enterprise = serializers.IntegerField(min_value=1)
    source = _source_field()
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    application = serializers.IntegerField(min_value=1, required=False)
    person = serializers.IntegerField(
        min_value=1, required=False,
        help_text="Ask about this person around the enterprise (credit bureau only), under "
                  "the person's own consent.")

    class Meta:
        ref_name = "DataPullInput"


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied()


class ConsentCreateApi(IdempotentCommandMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="datahub_consent_create", request=ConsentInput,
                   responses={201: ConsentOutput}, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request):
        _need(request.user, "datahub.add_consent")
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        consent = services.consent_record(enterprise_id=fields.pop("enterprise"),
                                          person_id=fields.pop("person", None),
                                          actor=request.user, **fields)
        return Response(ConsentOutput(consent).data, status=status.HTTP_201_CREATED)


class PullListApi(IdempotentCommandMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="datahub_pull_list", responses=paginated(PullOutput,
                                                                         "DataPullPage"),
                   parameters=[OpenApiParameter("enterprise", int),
                               OpenApiParameter("source", str, enum=Source.values),
                               OpenApiParameter("state", str, enum=PullState.values),
                               *page_parameters()])
    def get(self, request):
        _need(request.user, "datahub.view_pull")
        enterprise = parse_whole_number(request.query_params.get("enterprise"),
                                        field="enterprise", minimum=1)
        pulls = selectors.pull_list(viewer=request.user, enterprise_id=enterprise)
        for name, choices in (("source", Source.values), ("state", PullState.values)):
            value = request.query_params.get(name)
            if value:
                if value not in choices:
                    raise ValidationError({name: [f"Choose one of: {', '.join(choices)}."]})
                pulls = pulls.filter(**{name: value})
        return paginate(pulls, request, self, PullOutput)

    @extend_schema(operation_id="datahub_pull_request", request=PullInput,
                   responses={202: PullOutput, 200: PullOutput},
                   parameters=[IDEMPOTENCY_KEY_HEADER],
                   description="Ask a source about an enterprise. 202: a paid query was "
                               "queued (or one already in flight is returned); 200: answered "
                               "from the cache at no cost. 409 `consent_required` without a "
                               "consent in force, 409 `budget_exhausted` at the branch's "
                               "monthly hard stop.")
    def post(self, request):
        data = PullInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        pull = services.pull_request(enterprise_id=fields["enterprise"],
                                     source=fields["source"], purpose=fields["purpose"],
                                     application_id=fields.get("application"),
                                     person_id=fields.get("person"), actor=request.user)
        done = pull.state == PullState.SUCCEEDED
        return Response(PullOutput(pull).data,
                        status=status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED)


class PullDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="datahub_pull_get", responses=PullDetailOutput)
    def get(self, request, pull_id: int):
        _need(request.user, "datahub.view_pull")
        pull = selectors.pull_get(viewer=request.user, pull_id=pull_id)
        return Response(PullDetailOutput(pull).data)


class FileImportApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="datahub_file_import",
        request={"multipart/form-data": inline_serializer("DataFileImportInput", fields={
            "source": _source_field(),
            "purpose": serializers.ChoiceField(choices=Purpose.choices),
            "file": serializers.FileField()})},
        responses={201: inline_serializer("DataFileImportOutput", fields={
            "pulls": PullOutput(many=True),
            "unmatched": serializers.ListField(child=serializers.CharField()),
            "already_imported": serializers.ListField(
                child=serializers.CharField(),
                help_text="Subjects whose part of this export was imported before: not "
                          "stored again (the import is idempotent)."),
            "detail": serializers.CharField(help_text="What the import did, in a sentence.")}),
            200: inline_serializer("DataFileImportNothingNew", fields={
                "pulls": PullOutput(many=True),
                "unmatched": serializers.ListField(child=serializers.CharField()),
                "already_imported": serializers.ListField(child=serializers.CharField()),
                "detail": serializers.CharField()})})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Attach the export file."]})
        result = file_import(source=request.data.get("source", ""),
                             purpose=request.data.get("purpose", ""), name=upload.name,
                             data=upload.read(), actor=request.user)
        # 201 when something was stored; 200 "nothing new" when every subject was on file.
        return Response({"pulls": PullOutput(result.pulls, many=True).data,
                         "unmatched": result.unmatched,
                         "already_imported": result.already_imported,
                         "detail": result.message},
                        status=status.HTTP_201_CREATED if result.pulls else status.HTTP_200_OK)


class CostReportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="datahub_cost_report",
                   parameters=[OpenApiParameter("month", str, description="YYYY-MM; this "
                                                "month when absent.")],
                   responses=inline_serializer("DataCostReport", fields={
                       "month": serializers.CharField(),
                       "total": serializers.DictField(),
                       "by_branch": serializers.ListField(child=serializers.DictField()),
                       "by_officer": serializers.ListField(child=serializers.DictField()),
                       "by_product": serializers.ListField(child=serializers.DictField()),
                       "by_source": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        _need(request.user, "datahub.view_cost_report")
        start, end = month_bounds(request.query_params.get("month"))
        report = selectors.cost_report(viewer=request.user, start=start, end=end)
        return Response({"month": start.strftime("%Y-%m"), **_plain(report)})


def month_bounds(text: str | None) -> tuple[dt.datetime, dt.datetime]:
    """The month named YYYY-MM (this month when absent) as [start, end) in local time."""
    if text:
        try:
            first = dt.datetime.strptime(text, "%Y-%m")
        except ValueError as exc:
            raise ValidationError({"month": ["Give the month as YYYY-MM."]}) from exc
        start = timezone.make_aware(first)
    else:
        start = month_start(timezone.now())
    following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, timezone.make_aware(following.replace(tzinfo=None))


def _plain(report: dict) -> dict:
    def clean(row: dict) -> dict:
        return {k: (str(v) if v is not None and k in ("spent", "saved") else v)
                for k, v in row.items()}
    return {"total": clean(report["total"]),
            **{k: [clean(r) for r in v] for k, v in report.items() if k != "total"}}
