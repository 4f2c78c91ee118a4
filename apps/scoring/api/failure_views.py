"""Score failures over the API (issue #20): list them, and re-run a failed one.

The list is for credit policy, operations and audit (403 for other roles) and scoped to the
viewer's branches; a re-run answers 403 to roles that may not re-run before it answers 409 for
a record that is not failed (CONVENTIONS §6), and queues the score through the outbox.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated
from apps.scoring import selectors, services
from apps.scoring.failure_text import failure_sentence, reason_sentence
from apps.scoring.states import ScoreFailureReason, ScoreFailureState, ScoreTrigger


class ScoreFailureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    application_reference = serializers.CharField(source="application.reference")
    state = serializers.ChoiceField(choices=ScoreFailureState.choices)
    attempts = serializers.IntegerField(help_text="Failed attempts counted so far.")
    max_attempts = serializers.IntegerField(
        help_text="Attempts the decision policy allowed (score_max_attempts) when counting "
                  "started.")
    reason = serializers.ChoiceField(source="reason_code", choices=ScoreFailureReason.choices)
    reason_text = serializers.SerializerMethodField(help_text="The reason, for people.")
    sentence = serializers.SerializerMethodField(
        help_text="What happened and what to do, in the request language.")
    trigger = serializers.ChoiceField(choices=ScoreTrigger.choices)
    last_failed_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)
    rerun_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ScoreFailure"

    def get_reason_text(self, failure) -> str:
        return reason_sentence(failure)

    def get_sentence(self, failure) -> str:
        return failure_sentence(failure)


class ScoreFailureListApi(APIView):
    """Score failures of the applications you may see, newest first (failed ones by default)."""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=ScoreFailureState.choices,
                                        default=ScoreFailureState.FAILED)

    @extend_schema(
        operation_id="scoring_failures_list",
        parameters=[OpenApiParameter("state", str, enum=ScoreFailureState.values,
                                     description="Default: failed."), *PAGE_PARAMETERS],
        responses={200: paginated(ScoreFailureSerializer, "PaginatedScoreFailureList")})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        failures = selectors.score_failure_list(viewer=request.user,
                                                states=(filters.validated_data["state"],))
        return paginate(failures, request, self, ScoreFailureSerializer)


class ScoreFailureRerunApi(IdempotentCommandMixin, APIView):
    """Re-run a failed score (202): the attempt count starts again under the policy's bound."""

    @extend_schema(
        operation_id="scoring_failures_rerun", request=None,
        responses={202: ScoreFailureSerializer,
                   403: OpenApiResponse(ErrorSerializer,
                                        description="Only credit policy (risk reviewers) and "
                                                    "operations (administrators) re-run."),
                   409: OpenApiResponse(ErrorSerializer,
                                        description="The score is not failed (being retried, "
                                                    "or resolved)."),
                   **IDEMPOTENCY_ERRORS},
        parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, failure_id: int):
        selectors.score_failure_get(viewer=request.user, failure_id=failure_id)  # 404 if hidden
        failure = services.score_failure_rerun(failure_id=failure_id, actor=request.user)
        return Response(ScoreFailureSerializer(failure).data, status=status.HTTP_202_ACCEPTED)
