"""Scoring API: an application's latest score, "score now", model promotion (four-eyes),
portfolio re-scoring and model training jobs with their progress. Thin views: selectors scope,
services decide."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.applications.selectors import application_get
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.scoring import selectors, services
from apps.scoring.services.bulk import BulkRateLimited
from apps.scoring.states import (
    ModelKind,
    ModelVersionState,
    Recommendation,
    RescoringJobState,
    TrainingJobState,
    TrainingSource,
)


class ScoreResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    probability = serializers.FloatField(help_text="Probability of default (12 months).")
    score = serializers.FloatField()
    grade = serializers.CharField()
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    reasons = serializers.JSONField(help_text="Top adverse factors, most adverse first.")
    knockouts = serializers.JSONField()
    suggested_limit = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    price_band = serializers.CharField()
    model_version = serializers.CharField(source="model_version.version")
    policy_version = serializers.IntegerField(source="policy.version")
    input_hash = serializers.CharField()
    inputs = serializers.JSONField(source="snapshot.values",
                                   help_text="The exact feature values used.")
    trigger = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ScoreResult"


class ApplicationScoreApi(APIView):
    """The application's latest score (404 when it has none or is not visible to you)."""

    @extend_schema(operation_id="applications_score", responses={200: ScoreResultSerializer})
    def get(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        result = selectors.latest_score(application_id=application_id)
        if result is None:
            raise Http404
        return Response(ScoreResultSerializer(result).data)


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()

    class Meta:
        ref_name = "ScoreRequested"


class ApplicationScoreRequestApi(IdempotentCommandMixin, APIView):
    """Score now: queue a fresh score with the champion (202; read it from the score API)."""

    @extend_schema(operation_id="applications_score_now", request=None,
                   responses={202: AcceptedSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        services.application_score_request(application_id=application_id, actor=request.user)
        return Response({"detail": "queued"}, status=status.HTTP_202_ACCEPTED)


class ModelVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=ModelVersionState.choices)
    features = serializers.JSONField()

    class Meta:
        ref_name = "ModelVersion"


class _ModelCommandApi(IdempotentCommandMixin, APIView):
    service = None
    takes_reason = False

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ModelVersionCommandInput"

    def command(self, request, version_id: int):
        selectors.model_version_get(viewer=request.user, version_id=version_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kwargs = {"reason": data.validated_data.get("reason", "")} if self.takes_reason else {}
        version = type(self).service(version_id=version_id, actor=request.user, **kwargs)
        return Response(ModelVersionSerializer(version).data)


class ModelVersionRequestPromotionApi(_ModelCommandApi):
    """Ask for a validated version to become champion (reason required)."""

    service = staticmethod(services.model_version_request_promotion)
    takes_reason = True

    @extend_schema(operation_id="models_request_promotion",
                   request=_ModelCommandApi.InputSerializer,
                   responses={200: ModelVersionSerializer, **COMMAND_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, version_id: int):
        return self.command(request, version_id)


class ModelVersionApprovePromotionApi(_ModelCommandApi):
    """Approve a requested promotion: not by the trainer nor the requester (four-eyes)."""

    service = staticmethod(services.model_version_approve_promotion)

    @extend_schema(operation_id="models_approve_promotion", request=None,
                   responses={200: ModelVersionSerializer, **COMMAND_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, version_id: int):
        return self.command(request, version_id)


class RescoringJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RescoringJobState.choices)
    model_version = serializers.CharField(source="model_version.version")
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    created = serializers.IntegerField()
    error = serializers.CharField()

    class Meta:
        ref_name = "RescoringJob"


class RescoringJobStartSerializer(RescoringJobSerializer):
    joined = serializers.BooleanField(help_text="True when this request joined the re-scoring "
                                      "already queued or running (one at a time).")

    class Meta:
        ref_name = "RescoringJobStart"


class RescoringJobStartApi(IdempotentCommandMixin, APIView):
    """Re-score the portfolio with the champion in one background job (202 + the job).

    One re-scoring at a time: while one is queued or running, this returns that job
    (`joined: true`). Each person may start a limited number an hour (policy
    `bulk.rescoring.per_user_per_hour`): past it, 429 with Retry-After."""

    @extend_schema(operation_id="rescoring_start", request=None,
                   responses={202: RescoringJobStartSerializer, **COMMAND_ERRORS,
                              429: OpenApiResponse(ErrorSerializer, description=(
                                  "Too many re-scorings started by you this hour; see the "
                                  "Retry-After header."))},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request):
        try:
            job = services.rescoring_start(actor=request.user)
        except BulkRateLimited as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.detail) from None
        return Response(RescoringJobStartSerializer(job).data,
                        status=status.HTTP_202_ACCEPTED)


class RescoringJobDetailApi(APIView):
    """Progress of a re-scoring job (done / total)."""

    @extend_schema(operation_id="rescoring_job", responses={200: RescoringJobSerializer})
    def get(self, request, job_id: int):
        return Response(RescoringJobSerializer(
            selectors.rescoring_job_get(viewer=request.user, job_id=job_id)).data)


class TrainingJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=TrainingSource.choices)
    kind = serializers.ChoiceField(choices=ModelKind.choices)
    seed = serializers.IntegerField()
    target = serializers.CharField()
    state = serializers.ChoiceField(choices=TrainingJobState.choices)
    progress = serializers.IntegerField(help_text="0–100.")
    stage = serializers.CharField()
    labels = serializers.JSONField(help_text="Goods, bads and exclusions by reason, with the "
                                             "default definition used (database source).")
    model_version = ModelVersionSerializer(allow_null=True,
                                           help_text="The draft version registered, once done.")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "TrainingJob"


class TrainingJobStartApi(IdempotentCommandMixin, APIView):
    """Train a model in a background job (202 + the job): from an uploaded CSV, or from the
    disbursed loans labelled by the decision policy's default definition."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        source = serializers.ChoiceField(choices=TrainingSource.choices,
                                         default=TrainingSource.CSV)
        kind = serializers.ChoiceField(choices=ModelKind.choices, default=ModelKind.SCORECARD)
        seed = serializers.IntegerField(min_value=0, default=0)
        csv_file = serializers.FileField(required=False, help_text="With source csv.")
        target = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                       help_text="Outcome column of the CSV.")

        class Meta:
            ref_name = "TrainingJobStart"

    @extend_schema(operation_id="training_jobs_start",
                   request={"multipart/form-data": InputSerializer,
                            "application/json": InputSerializer},
                   responses={202: TrainingJobSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        upload = fields.get("csv_file")
        if upload is not None:
            upload.seek(0)  # the idempotency hash may have read it
        job = services.training_job_start(
            actor=request.user, source=fields["source"], kind=fields["kind"],
            seed=fields["seed"], content=upload.read() if upload else None,
            filename=upload.name if upload else "", target=fields.get("target", ""))
        return Response(TrainingJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class TrainingJobDetailApi(APIView):
    """State and progress of a training job, and the version it registered."""

    @extend_schema(operation_id="training_job", responses={200: TrainingJobSerializer})
    def get(self, request, job_id: int):
        return Response(TrainingJobSerializer(
            selectors.training_job_get(viewer=request.user, job_id=job_id)).data)
