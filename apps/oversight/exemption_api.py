"""API of exemption cases under /api/v1/oversight/exemptions/ (CONVENTIONS §6).

Reads go through the viewer-scoped selectors (404 for a case the caller may not see); each
command is one POST that accepts an `Idempotency-Key`, and the services decide permission
(403: nobody decides their own case; the appeal reviewer is not the decider) and state (409).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.oversight import exemption_services as svc
from apps.oversight.exemption_selectors import exemption_case_get, exemption_case_list
from apps.oversight.exemption_states import ExemptionCaseState, Tier

_RESPONSES = {**COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}
MAX_PAGE = 200


class ExemptionPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    involvements = serializers.JSONField()
    dissent = serializers.JSONField()
    proposed_tier = serializers.CharField()
    tier = serializers.CharField()
    reason = serializers.CharField()
    relied_on = serializers.CharField()
    appealed_at = serializers.DateTimeField(allow_null=True)
    appeal_grounds = serializers.CharField()
    appeal_outcome = serializers.CharField()
    final_tier = serializers.CharField()

    class Meta:
        ref_name = "ExemptionPerson"


class ExemptionCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan = serializers.CharField(source="loan.loan_number")
    application_id = serializers.IntegerField()
    branch_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=ExemptionCaseState.choices)
    incident = serializers.CharField()
    opened_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()
    overdue = serializers.BooleanField(source="is_overdue")
    rule_set_version = serializers.IntegerField(allow_null=True)
    pack_sha256 = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    appeal_window_ends_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ExemptionCase"


class ExemptionCaseDetailSerializer(ExemptionCaseSerializer):
    people = ExemptionPersonSerializer(many=True, source="people.all")
    policy_versions = serializers.JSONField()
    pack = serializers.JSONField()

    class Meta:
        ref_name = "ExemptionCaseDetail"


class ExemptionCaseListApi(APIView):
    """Cases the caller may see, soonest deadline first (filters: branch, state, deadline)."""

    @extend_schema(operation_id="exemption_cases_list",
                   responses={200: ExemptionCaseSerializer(many=True)},
                   parameters=[OpenApiParameter("branch", int, required=False),
                               OpenApiParameter("state", str, required=False,
                                                enum=ExemptionCaseState.values),
                               OpenApiParameter("deadline", str, required=False,
                                                enum=["overdue", "due_90"])])
    def get(self, request):
        params = request.query_params
        filters = {k: params[k] for k in ("state", "deadline") if params.get(k)}
        if (params.get("branch") or "").isdigit():
            filters["branch"] = int(params["branch"])
        cases = exemption_case_list(viewer=request.user, filters=filters)[:MAX_PAGE]
        return Response(ExemptionCaseSerializer(cases, many=True).data)


class ExemptionCaseGetApi(APIView):
    """One case with its people, tiers, dissent and frozen pack."""

    @extend_schema(operation_id="exemption_case_get",
                   responses={200: ExemptionCaseDetailSerializer})
    def get(self, request, case_id: int):
        case = exemption_case_get(case_id=case_id, viewer=request.user)
        return Response(ExemptionCaseDetailSerializer(case).data)


class _Command(IdempotentCommandMixin, APIView):
    InputSerializer = serializers.Serializer

    def run(self, request, case_id, data):
        raise NotImplementedError

    def post(self, request, case_id: int):
        exemption_case_get(case_id=case_id, viewer=request.user)  # 404 unless visible
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = self.run(request, case_id, data.validated_data)
        return Response(ExemptionCaseSerializer(case).data)


class _TierChoice(serializers.Serializer):
    person = serializers.IntegerField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    reason = serializers.CharField(max_length=4000)
    relied_on = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    class Meta:
        ref_name = "ExemptionTierChoice"


class _AppealOutcome(serializers.Serializer):
    person = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Tier.choices)
    reason = serializers.CharField(max_length=4000)

    class Meta:
        ref_name = "ExemptionAppealOutcome"


class ExemptionCaseStartReviewApi(_Command):
    """The exemption committee takes the case up."""

    @extend_schema(operation_id="exemption_case_start_review", request=None,
                   responses={200: ExemptionCaseSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, request, case_id, data):
        return svc.exemption_case_start_review(case_id=case_id, actor=request.user)


class ExemptionCaseDecideApi(_Command):
    """The committee's tier for every person (a member not under review)."""

    class InputSerializer(serializers.Serializer):
        summary = serializers.CharField(max_length=4000)
        tiers = _TierChoice(many=True)

        class Meta:
            ref_name = "ExemptionDecideInput"

    @extend_schema(operation_id="exemption_case_decide", request=InputSerializer,
                   responses={200: ExemptionCaseSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, request, case_id, data):
        return svc.exemption_case_decide(
            case_id=case_id, actor=request.user, summary=data["summary"],
            tiers={t["person"]: t for t in data["tiers"]})


class ExemptionCaseAppealApi(_Command):
    """A person under review appeals their tier within the appeal window."""

    class InputSerializer(serializers.Serializer):
        grounds = serializers.CharField(max_length=4000)

        class Meta:
            ref_name = "ExemptionAppealInput"

    @extend_schema(operation_id="exemption_case_appeal", request=InputSerializer,
                   responses={200: ExemptionCaseSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, request, case_id, data):
        return svc.exemption_case_appeal(case_id=case_id, actor=request.user,
                                         grounds=data["grounds"])


class ExemptionCaseDecideAppealApi(_Command):
    """Confirm or lighten each appealed tier; a more severe outcome answers 400
    (`fields.outcome_<person>`). The reviewer is not the decider (403)."""

    class InputSerializer(serializers.Serializer):
        summary = serializers.CharField(max_length=4000)
        outcomes = _AppealOutcome(many=True)

        class Meta:
            ref_name = "ExemptionDecideAppealInput"

    @extend_schema(operation_id="exemption_case_decide_appeal", request=InputSerializer,
                   responses={200: ExemptionCaseSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, request, case_id, data):
        return svc.exemption_case_decide_appeal(
            case_id=case_id, actor=request.user, summary=data["summary"],
            outcomes={o["person"]: o for o in data["outcomes"]})


class ExemptionCaseCloseApi(_Command):
    """Close after the appeal decision, or once the appeal window has passed (409 before)."""

    @extend_schema(operation_id="exemption_case_close", request=None,
                   responses={200: ExemptionCaseSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, request, case_id, data):
        return svc.exemption_case_close(case_id=case_id, actor=request.user)


class ExemptionBatchDecideApi(IdempotentCommandMixin, APIView):
    """One decision for many small cases under review (limit: policy), all or nothing."""

    class InputSerializer(serializers.Serializer):
        case_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1,
                                         max_length=500)
        tier = serializers.ChoiceField(choices=Tier.choices)
        reason = serializers.CharField(max_length=4000)
        relied_on = serializers.CharField(max_length=4000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ExemptionBatchInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        tier = serializers.CharField()
        cases = serializers.SerializerMethodField()

        def get_cases(self, batch) -> list[int]:
            return list(batch.cases.values_list("pk", flat=True))

        class Meta:
            ref_name = "ExemptionBatch"

    @extend_schema(operation_id="exemption_batch_decide", request=InputSerializer,
                   responses={200: OutputSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        for case_id in data.validated_data["case_ids"]:
            exemption_case_get(case_id=case_id, viewer=request.user)
        batch = svc.exemption_batch_decide(actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(batch).data)
