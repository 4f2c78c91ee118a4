"""Integration API for documents (CONVENTIONS §6): upload and list per application, one
document with its checks, the checklist, and the re-run and waiver commands.

`POST /api/v1/applications/{id}/documents/` takes multipart form data exactly as the forms'
JavaScript sends it: `document_type` (code), `file`, optional `device_lat`, `device_lng`,
`device_accuracy_m`, `item_code`, `valid_until`. A refused file answers 400 with the reason
under `fields.file`; nothing of it is kept. The upload takes an `Idempotency-Key`: a phone that
lost the answer resends with the same key and gets the first upload's answer back instead of
storing the file twice (the body is compared by the file's SHA-256). Without a key, a repeated
file is still recognised by its SHA-256 (`duplicate_of`).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.applications.selectors import application_get
from apps.core.exceptions import DomainError
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.documents import checking, services, waivers
from apps.documents.checklist import document_checklist, document_status
from apps.documents.checks.messages import flag_text
from apps.documents.safety import UploadRejected
from apps.documents.selectors import document_get, document_list
from apps.documents.states import CheckKind, ChecklistStatus, CheckStatus, DocumentState


class UploadRefused(DomainError):
    """The safety pipeline's refusal, with its stable code, as a field error on `file`."""

    def __init__(self, rejected: UploadRejected):
        self.code = rejected.code
        super().__init__(rejected.message, fields={"file": [rejected.message]})


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    params = serializers.DictField()
    text = serializers.SerializerMethodField()

    def get_text(self, item) -> str:
        return flag_text(item)


class CheckSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CheckKind.choices)
    status = serializers.ChoiceField(choices=CheckStatus.choices)
    findings = serializers.JSONField()
    flags = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    checker_version = serializers.CharField()
    attempts = serializers.IntegerField()
    error = serializers.CharField()

    class Meta:
        ref_name = "DocumentCheck"

    def get_flags(self, check) -> list[dict]:
        return FlagSerializer(check.findings.get("flags", []), many=True).data


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    document_type = serializers.CharField(source="document_type.code")
    state = serializers.ChoiceField(choices=DocumentState.choices)
    checklist_status = serializers.SerializerMethodField()
    original_filename = serializers.CharField()
    format = serializers.CharField(source="detected_format")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    duplicate_of = serializers.ListField(child=serializers.IntegerField())
    quarantined = serializers.BooleanField()
    quarantine_reason = serializers.CharField()
    item_code = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    uploaded_at = serializers.DateTimeField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    attention_reason = serializers.CharField()
    waive_reason = serializers.CharField()
    checks = CheckSerializer(many=True, source="checks.all")

    class Meta:
        ref_name = "Document"

    def get_checklist_status(self, document) -> str:
        return document_status(document)


class DocumentListApi(IdempotentCommandMixin, APIView):
    """GET: the application's documents with their checks. POST: upload one (multipart),
    replayed by Idempotency-Key."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        document_type = serializers.SlugField(max_length=50)
        file = serializers.FileField(allow_empty_file=True)
        device_lat = serializers.DecimalField(max_digits=10, decimal_places=7, required=False,
                                              min_value=-90, max_value=90)
        device_lng = serializers.DecimalField(max_digits=11, decimal_places=7, required=False,
                                              min_value=-180, max_value=180)
        device_accuracy_m = serializers.DecimalField(max_digits=9, decimal_places=2,
                                                     required=False, min_value=0)
        item_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
        valid_until = serializers.DateField(required=False, allow_null=True)

        class Meta:
            ref_name = "DocumentUpload"

    @extend_schema(operation_id="application_documents_list",
                   responses={200: DocumentSerializer(many=True)})
    def get(self, request, application_id: int):
        application = application_get(viewer=request.user, application_id=application_id)
        documents = (document_list(viewer=request.user, filters={"application": application})
                     .prefetch_related("checks"))
        return Response(DocumentSerializer(documents, many=True).data)

    @extend_schema(operation_id="application_documents_upload",
                   request={"multipart/form-data": InputSerializer},
                   responses={201: DocumentSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)  # 404 first
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            document = services.document_upload(
                application_id=application_id, document_type_code=fields["document_type"],
                uploaded_file=fields["file"], actor=request.user,
                device_lat=fields.get("device_lat"), device_lng=fields.get("device_lng"),
                device_accuracy_m=fields.get("device_accuracy_m"),
                item_code=fields.get("item_code", ""), valid_until=fields.get("valid_until"))
        except UploadRejected as exc:
            raise UploadRefused(exc) from exc
        document = document_get(viewer=request.user, document_id=document.pk)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailApi(APIView):
    """GET: one document with every check's status, findings, timings and version."""

    @extend_schema(operation_id="documents_retrieve", responses={200: DocumentSerializer})
    def get(self, request, document_id: int):
        document = document_get(viewer=request.user, document_id=document_id)
        return Response(DocumentSerializer(document).data)


class ChecklistRowSerializer(serializers.Serializer):
    requirement_id = serializers.IntegerField(source="requirement.pk")
    document_type = serializers.CharField(source="requirement.document_type.code")
    stage = serializers.CharField(source="requirement.stage")
    required = serializers.BooleanField(source="requirement.required")
    min_count = serializers.IntegerField(source="requirement.min_count")
    status = serializers.ChoiceField(choices=ChecklistStatus.choices)
    blocking = serializers.BooleanField()
    satisfied_count = serializers.IntegerField()
    document_ids = serializers.SerializerMethodField()
    # null until the requirement is waived (the schema said string: schemathesis caught it)
    waived_by = serializers.CharField(source="waiver.waived_by.username", default=None,
                                      allow_null=True)
    waiver_reason = serializers.CharField(source="waiver.reason", default=None,
                                          allow_null=True)

    class Meta:
        ref_name = "DocumentChecklistRow"

    def get_document_ids(self, row) -> list[int]:
        return [d.pk for d in row.documents]


class ChecklistApi(APIView):
    """GET: the application's document checklist and whether it blocks the next move."""

    @extend_schema(operation_id="application_document_checklist",
                   responses={200: ChecklistRowSerializer(many=True)})
    def get(self, request, application_id: int):
        _application, rows = document_checklist(viewer=request.user,
                                                application_id=application_id)
        return Response(ChecklistRowSerializer(rows, many=True).data)


class DocumentRecheckApi(IdempotentCommandMixin, APIView):
    """POST: run every check of a decided document again (account manager, branch team lead
    or risk reviewer); 409 while checks are running."""

    @extend_schema(operation_id="documents_recheck", request=None,
                   responses={202: DocumentSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, document_id: int):
        checking.document_recheck(document_id=document_id, actor=request.user)
        document = document_get(viewer=request.user, document_id=document_id)
        return Response(DocumentSerializer(document).data, status=status.HTTP_202_ACCEPTED)


class WaiveInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)

    class Meta:
        ref_name = "DocumentWaiveInput"


class DocumentWaiveApi(IdempotentCommandMixin, APIView):
    """POST: accept the document whatever its checks say, with a reason (a team lead of the
    branch who neither manages the application nor uploaded the file)."""

    @extend_schema(operation_id="documents_waive", request=WaiveInputSerializer,
                   responses={200: DocumentSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, document_id: int):
        data = WaiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        waivers.document_waive(document_id=document_id, actor=request.user,
                               reason=data.validated_data["reason"])
        document = document_get(viewer=request.user, document_id=document_id)
        return Response(DocumentSerializer(document).data)


class RequirementWaiveApi(IdempotentCommandMixin, APIView):
    """POST: waive a required document for the application without a file."""

    class OutputSerializer(serializers.Serializer):
        requirement_id = serializers.IntegerField()
        application_id = serializers.IntegerField()
        waived_by = serializers.CharField(source="waived_by.username")
        reason = serializers.CharField()

        class Meta:
            ref_name = "DocumentRequirementWaiver"

    @extend_schema(operation_id="document_requirements_waive", request=WaiveInputSerializer,
                   responses={201: OutputSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int, requirement_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = WaiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        waiver = waivers.requirement_waive(
            application_id=application_id, requirement_id=requirement_id, actor=request.user,
            reason=data.validated_data["reason"])
        return Response(self.OutputSerializer(waiver).data, status=status.HTTP_201_CREATED)


