"""GET the reader's proposed column mapping for a statement or tax record; POST a confirmed
mapping, which becomes a new version of the bank's ColumnProfile and re-runs the checks."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.documents.models import may_recheck
from apps.documents.selectors import document_get
from apps.documents.statements.profiles import FIELDS, column_profile_confirm, proposal_for

PREVIEW_ROWS = 5


class ProposalSerializer(serializers.Serializer):
    kind = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField(),
                                   help_text="Fields a column may be mapped to.")
    headers = serializers.ListField(child=serializers.CharField())
    header_row = serializers.IntegerField(allow_null=True)
    columns = serializers.DictField(child=serializers.IntegerField(),
                                    help_text="Proposed field → column index.")
    sign = serializers.CharField(allow_blank=True)
    date_format = serializers.CharField(allow_null=True)
    confidence = serializers.DecimalField(max_digits=6, decimal_places=4)
    continuity = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    preview = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))

    class Meta:
        ref_name = "ColumnMappingProposal"


class ConfirmInputSerializer(serializers.Serializer):
    bank = serializers.CharField(max_length=150)
    columns = serializers.DictField(child=serializers.IntegerField(min_value=0))
    date_format = serializers.CharField(max_length=40, required=False, allow_blank=True)

    class Meta:
        ref_name = "ColumnMappingConfirmInput"


class ProfileSerializer(serializers.Serializer):
    code = serializers.CharField()
    family = serializers.CharField()
    version = serializers.IntegerField()
    kind = serializers.CharField()
    columns = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    date_formats = serializers.ListField(child=serializers.CharField())

    class Meta:
        ref_name = "ConfirmedColumnProfile"


class ColumnMappingApi(IdempotentCommandMixin, APIView):
    """The column mapping of a statement or tax record whose layout no profile knows."""

    def _document(self, request, document_id):
        document = document_get(viewer=request.user, document_id=document_id)  # 404
        if not may_recheck(document.application, request.user):
            raise PermissionDenied(_("You may not confirm this document's columns."))
        return document

    @extend_schema(operation_id="documents_column_mapping_proposal",
                   responses={200: ProposalSerializer, **COMMAND_ERRORS})
    def get(self, request, document_id: int):
        document = self._document(request, document_id)
        kind, proposal, rows = proposal_for(document)
        data_rows = proposal.data_rows[:PREVIEW_ROWS] if proposal else []
        return Response(ProposalSerializer({
            "kind": kind, "fields": list(FIELDS[kind]),
            "headers": proposal.headers if proposal else [],
            "header_row": proposal.header_row if proposal else None,
            "columns": proposal.columns if proposal else {},
            "sign": proposal.sign if proposal else "",
            "date_format": proposal.date_format if proposal else None,
            "confidence": proposal.confidence if proposal else 0,
            "continuity": proposal.continuity if proposal else None,
            "preview": [["" if c is None else str(c) for c in rows[r]] for r in data_rows],
        }).data)

    @extend_schema(operation_id="documents_column_mapping_confirm",
                   request=ConfirmInputSerializer,
                   responses={201: ProfileSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, document_id: int):
        data = ConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = column_profile_confirm(
            document_id=document_id, actor=request.user, bank=data.validated_data["bank"],
            columns=data.validated_data["columns"],
            date_format=data.validated_data.get("date_format") or None)
        return Response(ProfileSerializer(profile).data, status=status.HTTP_201_CREATED)
