"""Integration API for the re-verification of accepted investigations (§3.4): drawn at random
on acceptance, or asked for by a team lead (`ReVerificationRequestApi`).

As for the investigation commands: the record is looked up through the viewer-scoped selector
first (another branch's answers 404), the input serializer carries only what the caller sets,
and `reverification_complete` decides the rest (only the assigned team lead, once), its
refusals rendered as `{code, detail, fields}`. Recording accepts an `Idempotency-Key`.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.investigations.api.views import TEXT_MAX_LENGTH, PersonSerializer
from apps.investigations.controls.reverification import (
    may_read_reverifications,
    officer_outcome_rows,
    reverification_complete,
    reverification_get,
    reverification_request,
    reverifications_assigned,
)
from apps.investigations.selectors import investigation_get
from apps.investigations.states import (
    ReVerificationMethod,
    ReVerificationOutcome,
    ReVerificationState,
)
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated


class ReVerificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    investigation_id = serializers.IntegerField()
    application_id = serializers.IntegerField(source="investigation.application_id")
    application_reference = serializers.CharField(source="investigation.application.reference")
    enterprise_name = serializers.CharField(source="investigation.application.enterprise.name")
    lead_officer = PersonSerializer(source="investigation.lead_officer")
    assisting_officer = PersonSerializer(source="investigation.assisting_officer")
    investigation_accepted_at = serializers.DateTimeField(source="investigation.accepted_at",
                                                          allow_null=True)
    assigned_to = PersonSerializer(allow_null=True,
                                   help_text="The team lead who re-verifies; null when the "
                                             "branch had none.")
    state = serializers.ChoiceField(choices=ReVerificationState.choices)
    sampled_at = serializers.DateTimeField(source="created_at",
                                           help_text="When it was drawn or asked for.")
    sample_rate = serializers.DecimalField(max_digits=7, decimal_places=6, allow_null=True,
                                           help_text="The policy rate it was drawn at; null "
                                                     "when a team lead asked for it.")
    requested_by = PersonSerializer(allow_null=True,
                                    help_text="The team lead who asked for it; null when the "
                                              "random sample drew the file.")
    reason = serializers.CharField(help_text="Why the team lead asked for it; empty when "
                                             "drawn.")
    method = serializers.CharField(help_text="revisit or callback; empty while open.")
    outcome = serializers.CharField(help_text="confirmed or discrepancies; empty while open.")
    notes = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ReVerification"


class OfficerOutcomeSerializer(serializers.Serializer):
    officer = PersonSerializer()
    open = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    discrepancies = serializers.IntegerField()

    class Meta:
        ref_name = "ReVerificationOfficerOutcome"


class ReVerificationListApi(APIView):
    """GET: the re-verifications assigned to the caller, open ones first."""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=ReVerificationState.choices, required=False)

        class Meta:
            ref_name = "ReVerificationFilter"

    @extend_schema(operation_id="reverifications_list",
                   parameters=[FilterSerializer, *PAGE_PARAMETERS],
                   responses={200: paginated(ReVerificationSerializer,
                                             "PaginatedReVerificationList")})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = reverifications_assigned(viewer=request.user)
        if "state" in filters.validated_data:
            rows = rows.filter(state=filters.validated_data["state"])
        return paginate(rows, request, self, ReVerificationSerializer)


class ReVerificationDetailApi(APIView):
    """GET: one re-verification (its assignee, or a team lead / risk role of the branch)."""

    @extend_schema(operation_id="reverifications_retrieve",
                   responses={200: ReVerificationSerializer})
    def get(self, request, reverification_id: int):
        return Response(ReVerificationSerializer(reverification_get(
            viewer=request.user, reverification_id=reverification_id)).data)


class ReVerificationCompleteApi(IdempotentCommandMixin, APIView):
    """POST: the assigned team lead records how the file was re-verified and what was found;
    `notes` are required when discrepancies were found (400 with `fields.notes`)."""

    class InputSerializer(serializers.Serializer):
        method = serializers.ChoiceField(choices=ReVerificationMethod.choices)
        outcome = serializers.ChoiceField(choices=ReVerificationOutcome.choices)
        notes = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=TEXT_MAX_LENGTH)

        class Meta:
            ref_name = "ReVerificationCompleteInput"

    @extend_schema(operation_id="reverifications_complete", request=InputSerializer,
                   responses={200: ReVerificationSerializer, **COMMAND_ERRORS,
                              **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, reverification_id: int):
        reverification_get(viewer=request.user, reverification_id=reverification_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reverification_complete(reverification_id=reverification_id, actor=request.user,
                                **data.validated_data)
        return Response(ReVerificationSerializer(reverification_get(
            viewer=request.user, reverification_id=reverification_id)).data)


class OfficerOutcomesApi(APIView):
    """GET: per officer, re-verifications open, confirmed and with discrepancies over the
    caller's branches (team leads and risk roles)."""

    @extend_schema(operation_id="reverifications_officer_outcomes",
                   responses={200: OfficerOutcomeSerializer(many=True), **COMMAND_ERRORS})
    def get(self, request):
        if not may_read_reverifications(request.user):
            raise PermissionDenied
        rows = [row for row in officer_outcome_rows(viewer=request.user) if row["officer"]]
        return Response(OfficerOutcomeSerializer(rows, many=True).data)


class ReVerificationRequestApi(IdempotentCommandMixin, APIView):
    """POST: a team lead of the file's branch who did not investigate it asks for the accepted
    investigation to be re-verified, and is assigned it. One re-verification per
    investigation, drawn or asked for."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=TEXT_MAX_LENGTH,
                                       help_text="Why the file should be re-verified.")

        class Meta:
            ref_name = "ReVerificationRequestInput"

    @extend_schema(
        operation_id="investigations_request_reverification", request=InputSerializer,
        responses={201: ReVerificationSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS,
                   403: OpenApiResponse(ErrorSerializer, description=(
                       "Not a team lead of the file's branch, or an officer who investigated "
                       "it.")),
                   404: OpenApiResponse(ErrorSerializer, description=(
                       "No such investigation, or one the caller may not see.")),
                   409: OpenApiResponse(ErrorSerializer, description=(
                       "The investigation is not accepted, or already has a "
                       "re-verification."))},
        parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        investigation_get(viewer=request.user, investigation_id=investigation_id)  # else 404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reverification = reverification_request(investigation_id=investigation_id,
                                                actor=request.user, **data.validated_data)
        return Response(ReVerificationSerializer(reverification_get(
            viewer=request.user, reverification_id=reverification.pk)).data,
            status=status.HTTP_201_CREATED)
