"""Integration API for post-loan inspections (viewer-scoped, `{code, detail, fields}` errors).

Statuses: 200 success; 400 invalid input (field errors); 401 not signed in; 403 not your move
(not the inspecting officer, reviewer is the officer, no reviewer role); 404 not found or in
another branch (existence not revealed); 409 not possible in this state (`transition_not_allowed`),
a stale answer (`answer_conflict`, `fields.current`), an incomplete submission
(`inspection_incomplete`, `fields.missing`); 422 Idempotency-Key reused with another body.
Commands and the answer PUT take an `Idempotency-Key`.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.fsm import may_attempt
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.investigations.selectors import answer_payload
from apps.monitoring import inspection_services as services
from apps.monitoring.inspection_selectors import (
    inspection_get,
    inspection_list,
    inspections_due_for,
)
from apps.monitoring.inspection_states import ProposedClass, RequestedAction
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated

TEXT_MAX_LENGTH = 4000
ACTIONS = ("start", "submit", "review", "return_for_correction")


def available_actions(inspection, user) -> list[str]:
    """The moves the user may try now (a hint for clients; the service checks again)."""
    return [name for name in ACTIONS if may_attempt(getattr(inspection, name), actor=user)]


class InspectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan = serializers.IntegerField(source="loan_id")
    loan_number = serializers.CharField(source="loan.loan_number")
    kind = serializers.CharField(help_text="m1 first check, m2 routine, m3 full, "
                                           "m4 repayment source, special")
    kind_label = serializers.CharField(source="get_kind_display")
    state = serializers.CharField(help_text="scheduled, in_progress, overdue, submitted, "
                                            "reviewed")
    state_label = serializers.CharField(source="get_state_display")
    due_date = serializers.DateField()
    officer = serializers.IntegerField(source="officer_id")
    template = serializers.CharField(source="template.code")
    template_version = serializers.IntegerField(source="template.version")
    policy_basis = serializers.JSONField()
    started_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    done_on_time = serializers.BooleanField(allow_null=True)
    proposed_class = serializers.CharField(allow_blank=True)
    class_reason = serializers.CharField(allow_blank=True)
    actions = serializers.ListField(child=serializers.CharField())
    funds_used_as_agreed = serializers.BooleanField(allow_null=True)
    cooperation = serializers.CharField(allow_blank=True)
    next_inspection_date = serializers.DateField(allow_null=True)
    review_note = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "Inspection"


class InspectionDetailSerializer(InspectionSerializer):
    answers = serializers.SerializerMethodField()
    red_flags = serializers.JSONField()
    cross_check_findings = serializers.JSONField()
    available_actions = serializers.SerializerMethodField()

    class Meta:
        ref_name = "InspectionDetail"

    def get_answers(self, obj) -> dict:
        return {a.item.code: answer_payload(a) for a in obj.answers.select_related("item")}

    def get_available_actions(self, obj) -> list[str]:
        return available_actions(obj, self.context["request"].user)


class InspectionListApi(APIView):
    """Inspections in the viewer's branches; `?due=mine` for the viewer's work list."""

    @extend_schema(operation_id="inspections_list", parameters=PAGE_PARAMETERS,
                   responses={200: paginated(InspectionSerializer, "InspectionPage")})
    def get(self, request):
        qs = (inspections_due_for(viewer=request.user) if request.GET.get("due") == "mine"
              else inspection_list(viewer=request.user).order_by("due_date", "id"))
        return paginate(qs, request, self, InspectionSerializer)


class InspectionDetailApi(APIView):
    @extend_schema(operation_id="inspections_detail",
                   responses={200: InspectionDetailSerializer})
    def get(self, request, inspection_id: int):
        inspection = inspection_get(viewer=request.user, inspection_id=inspection_id)
        return Response(InspectionDetailSerializer(inspection,
                                                   context={"request": request}).data)


class AnswerSaveOutputSerializer(serializers.Serializer):
    item = serializers.CharField()
    answer = serializers.JSONField()
    derived = serializers.JSONField()

    class Meta:
        ref_name = "InspectionAnswerSaved"


class InspectionAnswerApi(IdempotentCommandMixin, APIView):
    """PUT: save (autosave) one answer; the same contract as the investigation form's
    (`expected_version`, 409 `answer_conflict`, a repeated save is a no-op)."""

    idempotent_methods = ("PUT",)

    class InputSerializer(serializers.Serializer):
        value = serializers.JSONField(required=False, allow_null=True, default=None)
        not_applicable = serializers.BooleanField(required=False, default=False)
        na_reason = serializers.CharField(required=False, allow_blank=True, default="",
                                          max_length=TEXT_MAX_LENGTH)
        evidence = serializers.JSONField(required=False, allow_null=True, default=None)
        expected_version = serializers.IntegerField(required=False, allow_null=True,
                                                    default=None, min_value=1)

        class Meta:
            ref_name = "InspectionAnswerInput"

    @extend_schema(operation_id="inspections_answer_save", request=InputSerializer,
                   responses={200: AnswerSaveOutputSerializer, **COMMAND_ERRORS,
                              **IDEMPOTENCY_ERRORS,
                              409: OpenApiResponse(ErrorSerializer, description=(
                                  "answer_conflict (fields.current) or not editable now."))},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def put(self, request, inspection_id: int, item_code: str):
        get_object_or_404(inspection_list(viewer=request.user).select_related(None),
                          pk=inspection_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = services.inspection_answer_save(inspection_id=inspection_id,
                                                 item_code=item_code, actor=request.user,
                                                 **data.validated_data)
        return Response(AnswerSaveOutputSerializer({
            "item": item_code, "answer": answer_payload(answer), "derived": {}}).data)


_RESPONSES = {200: InspectionSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


class InspectionCommandApi(IdempotentCommandMixin, APIView):
    class InputSerializer(serializers.Serializer):
        pass

    def command(self, request, inspection_id: int, run):
        inspection_get(viewer=request.user, inspection_id=inspection_id)  # 404 unless visible
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(InspectionSerializer(run(data.validated_data)).data)


class InspectionStartApi(InspectionCommandApi):
    """The inspecting officer starts (scheduled or overdue → in progress)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "InspectionStartInput"

    @extend_schema(operation_id="inspections_start", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, inspection_id: int):
        return self.command(request, inspection_id, lambda data: services.inspection_start(
            inspection_id=inspection_id, actor=request.user))


class ConclusionInput(serializers.Serializer):
    proposed_class = serializers.ChoiceField(choices=ProposedClass.choices)
    class_reason = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    actions = serializers.ListField(child=serializers.ChoiceField(
        choices=RequestedAction.choices), required=False, default=list)
    next_inspection_date = serializers.DateField(required=False, allow_null=True, default=None)

    class Meta:
        ref_name = "InspectionConclusionInput"


class InspectionSubmitApi(InspectionCommandApi):
    """Submit with the conclusion; 409 `inspection_incomplete` lists what is missing."""

    InputSerializer = ConclusionInput

    @extend_schema(operation_id="inspections_submit", request=ConclusionInput,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, inspection_id: int):
        return self.command(request, inspection_id, lambda data: services.inspection_submit(
            inspection_id=inspection_id, actor=request.user, **data))


class ReviewInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=TEXT_MAX_LENGTH)
    proposed_class = serializers.ChoiceField(choices=ProposedClass.choices, required=False)
    class_reason = serializers.CharField(required=False, max_length=TEXT_MAX_LENGTH)
    actions = serializers.ListField(child=serializers.ChoiceField(
        choices=RequestedAction.choices), required=False)
    next_inspection_date = serializers.DateField(required=False, allow_null=True)

    class Meta:
        ref_name = "InspectionReviewInput"


class InspectionReviewApi(InspectionCommandApi):
    """A second person (team lead or risk reviewer, not the officer) confirms the conclusion,
    optionally correcting it."""

    InputSerializer = ReviewInput

    @extend_schema(operation_id="inspections_review", request=ReviewInput,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, inspection_id: int):
        return self.command(request, inspection_id, lambda data: services.inspection_review(
            inspection_id=inspection_id, actor=request.user, **data))


class ReturnInput(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX_LENGTH)

    class Meta:
        ref_name = "InspectionReturnInput"


class InspectionReturnApi(InspectionCommandApi):
    """Back to the officer with a note (退回补正)."""

    InputSerializer = ReturnInput

    @extend_schema(operation_id="inspections_return", request=ReturnInput,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, inspection_id: int):
        return self.command(request, inspection_id, lambda data: services.inspection_return(
            inspection_id=inspection_id, actor=request.user, **data))
